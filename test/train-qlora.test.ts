/**
 * LoRA training over a quantized frozen base (QLoRA): q8_0 and q4_0 GGUF files whose matrices stay
 * block codes in the training graph. References: finite differences of the same graph's loss, and
 * the same file read with its matrices dequantized to float32 (the ordinary LoRA path).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomLlamaConfig } from './helpers/random-models.ts';
import { assertDirectional, directionalChecks, preferencePairs, sftExamples } from './helpers/train-fixtures.ts';
import { writeRandomGguf } from '../src/models/gguf/random-gguf.ts';
import { readGgufModel } from '../src/models/gguf/gguf-model.ts';
import type { GgufPrecision } from '../src/models/gguf/gguf-model.ts';
import { baseShapes, initAdapters } from '../src/train/lora.ts';
import { sftObjective } from '../src/train/sft-objective.ts';
import { dpoObjective } from '../src/train/dpo-objective.ts';
import { buildTrainGraph, gradOutputName, LOSS_OUTPUT } from '../src/train/train-graph.ts';
import type { TrainableSpec } from '../src/train/training-parameters.ts';
import { GraphSession, type Feed } from '../src/engine/session.ts';
import type { Weights } from '../src/models/weights.ts';
import { createRng } from '../src/util/random.ts';

// every matrix a multiple of 32 wide, so each is stored quantized (the embedding and head of q4_0 files at Q8_0)
const config = randomLlamaConfig({ hiddenSize: 32, intermediateSize: 64, vocabSize: 64, numKvHeads: 2 });
const lora = { rank: 2, alpha: 4, targets: ['q_proj', 'v_proj', 'down_proj'] };

function withTempDir<T>(run: (dir: string) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'alignkit-qlora-'));
  return run(dir).finally(() => rmSync(dir, { recursive: true, force: true }));
}

/** The file read twice: matrices kept as block codes, and every matrix dequantized to float32. */
function readBoth(file: string) {
  const kept = readGgufModel(file, { keepQuantized: true });
  const widened = readGgufModel(file);
  return { kept, widened };
}

/** Adapters with B made nonzero, so every adapter has a gradient through the other. */
function liveAdapters(weights: ReturnType<typeof baseShapes>, seed: number): Weights {
  const adapters = initAdapters(config, weights, lora, seed);
  const rng = createRng(seed + 1);
  for (const [name, t] of adapters)
    if (name.includes('lora_B'))
      t.data.forEach((_, i) => {
        t.data[i] = rng.normal() * 0.3;
      });
  return adapters;
}

/** loss and every adapter's gradient of one training graph run */
async function lossAndGradients<Item>(
  weights: Weights,
  spec: TrainableSpec,
  objective: ReturnType<typeof sftObjective> | ReturnType<typeof dpoObjective>,
  items: Item[],
) {
  const obj = objective as unknown as Parameters<typeof buildTrainGraph<Item>>[3];
  const built = buildTrainGraph(config, weights, spec, obj, { gradients: true });
  const session = await GraphSession.create(built.graph, 'qlora train');
  try {
    const tensors = new Map([...weights, ...(spec.lora?.adapters ?? [])]);
    const feeds: Record<string, Feed> = { ...obj.feeds(items, obj.normalizer(items)) };
    for (const n of built.weightInputs) feeds[n] = { dims: tensors.get(n)!.shape, data: tensors.get(n)!.data };
    const out = await session.run(feeds);
    const grads = new Map(built.trained.map((n) => [n, out[gradOutputName(n)].data as Float32Array]));
    return { loss: (out[LOSS_OUTPUT].data as Float32Array)[0], grads, graph: built.graph };
  } finally {
    await session.release();
  }
}

for (const precision of ['q8_0', 'q4_0'] as GgufPrecision[]) {
  test(`${precision} base: LoRA gradients match finite differences and the float32-dequantized base's; the base stays block codes`, () =>
    withTempDir(async (dir) => {
      const file = join(dir, `model-${precision}.gguf`);
      writeRandomGguf(file, config, precision, 3);
      const { kept, widened } = readBoth(file);
      assert.equal(kept.quantized.size, 2 + 7 * config.numLayers, 'every matrix held as block codes');
      const adapters = liveAdapters(baseShapes(kept.weights, kept.quantized), 5);
      const spec: TrainableSpec = {
        full: new Set(),
        lora: { config: lora, adapters },
        frozen: 'initializer',
        quantized: kept.quantized,
      };
      // finite differences of the quantized graph's own loss, along a random direction per adapter
      const checks = await directionalChecks(config, kept.weights, spec, sftObjective(), sftExamples(64));
      assert.deepEqual(checks.map((c) => c.name).sort(), [...adapters.keys()].sort());
      assertDirectional(checks, `${precision} qlora sft`);

      // the same loss and gradients as ordinary LoRA over the dequantized float32 weights
      const items = sftExamples(64, 4);
      const quantized = await lossAndGradients(kept.weights, spec, sftObjective(), items);
      const float = await lossAndGradients(
        widened.weights,
        { full: new Set(), lora: { config: lora, adapters }, frozen: 'initializer' },
        sftObjective(),
        items,
      );
      assert.ok(Math.abs(quantized.loss - float.loss) < 1e-5, `loss ${quantized.loss} vs ${float.loss}`);
      for (const [name, g] of float.grads) {
        const q = quantized.grads.get(name)!;
        let worst = 0,
          scale = 0;
        for (let i = 0; i < g.length; i++) {
          worst = Math.max(worst, Math.abs(q[i] - g[i]));
          scale = Math.max(scale, Math.abs(g[i]));
        }
        assert.ok(worst <= 1e-4 * scale + 1e-7, `${name}: gradients differ by ${worst} (largest ${scale})`);
      }
      // the matrices are in the graph as their codes only: no float32 initializer of their size bears their names
      const floatCopies = [...quantized.graph.initializers.values()].filter(
        (t) =>
          t.dtype === 'float32' &&
          [...kept.quantized].some(
            ([n, q]) => t.name.startsWith(n) && t.dims.length === 2 && t.dims[0] * t.dims[1] === q.n * q.k,
          ),
      );
      assert.deepEqual(
        floatCopies.map((t) => t.name),
        [],
      );
      assert.ok(quantized.graph.nodes.some((n) => n.op === 'DequantizeLinear'));

      // DPO too
      const dpo = await directionalChecks(config, kept.weights, spec, dpoObjective({ beta: 0.5 }), preferencePairs(64));
      assertDirectional(dpo, `${precision} qlora dpo`);
    }));
}
