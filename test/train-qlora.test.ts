/**
 * LoRA training over a quantized frozen base (QLoRA): q8_0 and q4_0 GGUF files whose matrices stay
 * block codes in the training graph. References: finite differences of the same graph's loss, and
 * the same file read with its matrices dequantized to float32 (the ordinary LoRA path).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
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
import { valueObjective } from '../src/train/value-objective.ts';
import type { Objective } from '../src/train/objective.ts';
import { buildTrainGraph, gradOutputName, LOSS_OUTPUT } from '../src/train/train-graph.ts';
import type { TrainableSpec } from '../src/train/training-parameters.ts';
import { GraphSession, type Feed } from '../src/engine/session.ts';
import type { Weights } from '../src/models/weights.ts';
import { createRng } from '../src/util/random.ts';
import type { PreferencePair } from '../src/train/examples.ts';
import { sequenceLogpOutputs } from '../src/train/dpo-objective.ts';
import { logpsOnly } from '../src/train/reference-logps.ts';
import { readAdapters } from '../src/train/model-directory.ts';
import { loadNativeModel } from '../src/lm/load.ts';
import { loadRewardLanguageModel } from '../src/train/reward-model.ts';
import { readJsonl } from '../src/util/jsonl.ts';
import { loadValueData } from '../src/train/data/load-value.ts';
import { run as cli } from '../src/cli/main.ts';
import { FrozenQuantizedLinear } from '../src/train/quantized-base.ts';
import { TrainingOps } from '../src/train/training-ops.ts';
import { dequantizeBlockwise, inMemory, quantizeBlockwise } from '../src/engine/block-quantize.ts';
import { gradCheck } from './helpers/gradcheck.ts';
import { checkpointedRun, trainKilledAndResumed } from './helpers/kill-and-resume.ts';
import { readLocalCheckpoint } from '../src/lm/load-local.ts';
import { randomFloats, runGraph } from './helpers/graph-harness.ts';

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

test('a frozen quantized linear: x·W equals the float64 product with W dequantized; ∂x matches finite differences, through its own gradient and through the plain MatMul rule (DequantizeLinear of initializers is off the gradient path)', async () => {
  const [K, N] = [64, 48];
  const x = { shape: [2, 5, K], data: randomFloats(2 * 5 * K, 4) };
  for (const bits of [8, 4] as const) {
    // asymmetric blocks with zero points (the layout Q4_1 and the K-quants load into); Q8_0 / Q4_0 are the symmetric case
    const q = quantizeBlockwise(randomFloats(N * K, bits, 0.5), N, K, bits);
    const w = dequantizeBlockwise(q); // [N, K]
    const y = await runGraph({ x }, (o, v) => new FrozenQuantizedLinear(o, 'w', inMemory(q)).project(v.x));
    assert.deepEqual([...y.dims], [2, 5, N]);
    let worst = 0;
    for (let r = 0; r < 10; r++)
      for (let n = 0; n < N; n++) {
        let sum = 0;
        for (let k = 0; k < K; k++) sum += x.data[r * K + k] * w[n * K + k];
        worst = Math.max(worst, Math.abs((y.data as Float32Array)[r * N + n] - sum));
      }
    assert.ok(worst < 1e-4, `${bits}-bit forward differs from the float64 product by ${worst}`);
    const ops = (g: import('../src/engine/graph.ts').Graph) => new TrainingOps(g);
    // the product is linear in x: a wide step loses nothing to curvature and keeps float32 rounding small
    const h = 0.05;
    const own = await gradCheck({ x }, (o, v) => new FrozenQuantizedLinear(o, 'w', inMemory(q)).project(v.x), {
      ops,
      h,
    });
    assert.ok(own.worst < 2e-3, `${bits}-bit ∂x: ${own.where}`);
    const plain = await gradCheck(
      { x },
      (o, v) => o.matmul(v.x, new FrozenQuantizedLinear(o, 'w', inMemory(q)).whole()),
      { ops, h },
    );
    assert.ok(plain.worst < 2e-3, `${bits}-bit ∂x through MatMul: ${plain.where}`);
  }
});

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
      // products (and the head) dequantized a few rows at a time, as a large model's are: the same numbers
      const chunked = await lossAndGradients(
        kept.weights,
        { ...spec, quantizedChunkBytes: 8 * 4 * config.hiddenSize },
        sftObjective(),
        items,
      );
      assert.ok(
        chunked.graph.nodes.filter((n) => n.op === 'DequantizeLinear').length >
          2 * quantized.graph.nodes.filter((n) => n.op === 'DequantizeLinear').length,
        'the chunked graph dequantizes row ranges',
      );
      const float = await lossAndGradients(
        widened.weights,
        { full: new Set(), lora: { config: lora, adapters }, frozen: 'initializer' },
        sftObjective(),
        items,
      );
      assert.ok(Math.abs(quantized.loss - float.loss) < 1e-5, `loss ${quantized.loss} vs ${float.loss}`);
      assert.ok(Math.abs(chunked.loss - float.loss) < 1e-5, `chunked loss ${chunked.loss} vs ${float.loss}`);
      for (const [name, g] of float.grads)
        for (const q of [quantized.grads.get(name)!, chunked.grads.get(name)!]) {
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

/** log p of each token of `chosenIds` after `promptIds`, per pair, from the training graph over the quantized base. */
async function trainingGraphLogps(weights: Weights, spec: TrainableSpec, pairs: PreferencePair[]): Promise<number[][]> {
  const built = buildTrainGraph(config, weights, spec, logpsOnly, { gradients: false });
  const session = await GraphSession.create(built.graph, 'qlora logps');
  try {
    const tensors = new Map([...weights, ...(spec.lora?.adapters ?? [])]);
    const feeds: Record<string, Feed> = { ...logpsOnly.feeds(pairs, 1) };
    for (const n of built.weightInputs) feeds[n] = { dims: tensors.get(n)!.shape, data: tensors.get(n)!.data };
    const flat = (await session.run(feeds))[sequenceLogpOutputs.tokens].data as Float32Array;
    // rows are chosen responses then rejected ones, each its tokens in order
    const out: number[][] = [];
    let at = 0;
    for (const p of pairs) {
      out.push(Array.from(flat.subarray(at, at + p.chosenIds.length)));
      at += p.chosenIds.length;
    }
    return out;
  } finally {
    await session.release();
  }
}

/** The same log-probs from the inference graph (quantized kernels at float32 arithmetic), optionally with an adapter merged. */
async function inferenceLogps(file: string, pairs: PreferencePair[], adapter?: string): Promise<number[][]> {
  const model = await loadNativeModel(file, undefined, {
    runtime: 'onnxruntime',
    quantizedMatmul: { kernel: 'matmulnbits', accuracy: 'float32' },
    adapter,
  });
  try {
    const scored = await model.score(pairs.map((p) => ({ prefix: p.promptIds, continuation: p.chosenIds })));
    return scored.map((r) => r.logprobs);
  } finally {
    await model.dispose();
  }
}

function assertLogpsClose(actual: number[][], expected: number[][], label: string, tol = 1e-4) {
  assert.equal(actual.length, expected.length);
  actual.forEach((row, i) => {
    assert.equal(row.length, expected[i].length, `${label}: pair ${i} token count`);
    row.forEach((v, j) =>
      assert.ok(Math.abs(v - expected[i][j]) <= tol, `${label}: pair ${i} token ${j}: ${v} vs ${expected[i][j]}`),
    );
  });
}

for (const precision of ['q8_0', 'q4_0'] as GgufPrecision[]) {
  test(`${precision} base: the training graph with zero-initialized B gives the inference graph's log-probs`, () =>
    withTempDir(async (dir) => {
      const file = join(dir, `model-${precision}.gguf`);
      writeRandomGguf(file, config, precision, 7);
      const kept = readGgufModel(file, { keepQuantized: true });
      const adapters = initAdapters(config, baseShapes(kept.weights, kept.quantized), lora, 1);
      const pairs = preferencePairs(64, 3, false);
      const training = await trainingGraphLogps(
        kept.weights,
        { full: new Set(), lora: { config: lora, adapters }, frozen: 'initializer', quantized: kept.quantized },
        pairs,
      );
      assertLogpsClose(training, await inferenceLogps(file, pairs), precision);
    }));
}

/** The training rows of a run's metrics.jsonl. */
function trainMetrics(out: string) {
  return readJsonl<{ split: string; loss: number; 'mse/full_response'?: number }>(join(out, 'metrics.jsonl'))
    .map((r) => r.value)
    .filter((r) => r.split === 'train');
}

// a vocabulary with all 256 byte tokens, so any text tokenizes; matrices multiples of 32 wide
const cliConfig = randomLlamaConfig({ hiddenSize: 32, intermediateSize: 64, vocabSize: 320, numKvHeads: 2 });

test('train sft|dpo|rm|value --lora-rank over q8_0 and q4_0 GGUF files: the loss falls, the adapter is saved alone, reloads, and applies to the same file for score', () =>
  withTempDir(async (dir) => {
    const sft = join(dir, 'sft.jsonl');
    writeFileSync(
      sft,
      Array.from({ length: 8 }, (_, i) =>
        JSON.stringify({ prompt: `Story ${i}:`, completion: ' Once upon a time.' }),
      ).join('\n') + '\n',
    );
    const pairsFile = join(dir, 'pairs.jsonl');
    writeFileSync(
      pairsFile,
      [
        { prompt: 'Tom had a ball.', chosen: ' He was happy.', rejected: ' He was sad.' },
        { prompt: 'The sun was out.', chosen: ' They played.', rejected: ' It was bad.' },
      ]
        .map((l) => JSON.stringify(l))
        .join('\n') + '\n',
    );
    // value-model data: the final reward of each response, +1 for a good ending and −1 for a bad one
    const valueFile = join(dir, 'value.jsonl');
    writeFileSync(
      valueFile,
      Array.from({ length: 8 }, (_, i) =>
        JSON.stringify({
          prompt: `Story ${i}:`,
          completion: i % 2 ? ' Good end.' : ' Bad end.',
          reward: i % 2 ? 1 : -1,
        }),
      ).join('\n') + '\n',
    );
    const lossesOf = (out: string) => trainMetrics(out).map((r) => r.loss);
    for (const precision of ['q8_0', 'q4_0'] as GgufPrecision[]) {
      const file = join(dir, `model-${precision}.gguf`);
      writeRandomGguf(file, cliConfig, precision, 11);
      const common = ['--model', file, '--lora-rank', '4', '--lora-targets', 'q_proj,v_proj,down_proj', '--quiet'];
      const out = join(dir, `sft-${precision}`);
      const train = [
        'sft',
        ...common,
        '--data',
        sft,
        '--out',
        out,
        '--lr',
        '0.05',
        '--steps',
        '8',
        '--batch-size',
        '4',
      ];
      assert.equal(await cli(['train', ...train]), 0);
      const losses = lossesOf(out);
      assert.equal(losses.length, 8);
      assert.ok(losses.at(-1)! < losses[0] - 0.05, `${precision} sft losses ${losses.join(', ')}`);
      // the adapter alone: no float32 merged model of the quantized base
      assert.ok(existsSync(join(out, 'adapter', 'adapter_model.safetensors')));
      assert.ok(!existsSync(join(out, 'model')), readdirSync(out).join(', '));

      // reloaded, the adapter is the trained one: over the quantized base, the training graph and the
      // inference graph with the adapter merged at load give the same log-probs
      const saved = readAdapters(join(out, 'adapter'));
      assert.deepEqual(saved.lora, { rank: 4, alpha: 8, targets: ['q_proj', 'v_proj', 'down_proj'] });
      const kept = readGgufModel(file, { keepQuantized: true });
      const pairs = preferencePairs(cliConfig.vocabSize, 5, false);
      const training = await trainingGraphLogps(
        kept.weights,
        {
          full: new Set(),
          lora: { config: saved.lora, adapters: saved.adapters },
          frozen: 'initializer',
          quantized: kept.quantized,
        },
        pairs,
      );
      const adapted = await inferenceLogps(file, pairs, join(out, 'adapter'));
      assertLogpsClose(adapted, training, `${precision} adapter`);
      const plain = await inferenceLogps(file, pairs);
      assert.ok(
        adapted.some((row, i) => row.some((v, j) => Math.abs(v - plain[i][j]) > 1e-3)),
        'the adapter changes the log-probs',
      );

      // the CLI applies it too, and takes the adapter directory alone for its base with the adapter
      const scored = await scoreJson(['--model', file, '--adapter', join(out, 'adapter')]);
      assert.ok(Number.isFinite(scored.total) && scored.tokens.length > 0);
      assert.deepEqual(await scoreJson(['--model', join(out, 'adapter')]), scored);
      await assert.rejects(
        scoreJson(['--model', join(out, 'adapter'), '--adapter', join(out, 'adapter')]),
        /is a LoRA adapter directory: pass it alone, or its base model with --adapter/,
      );

      // DPO: the reference log-probs come from the same quantized base, the loss starts at log 2 and falls
      const dpoOut = join(dir, `dpo-${precision}`);
      const dpo = [
        'dpo',
        ...common,
        '--data',
        pairsFile,
        '--out',
        dpoOut,
        '--lr',
        '0.05',
        '--steps',
        '6',
        '--batch-size',
        '2',
        '--beta',
        '0.5',
      ];
      assert.equal(await cli(['train', ...dpo]), 0);
      const dpoLosses = lossesOf(dpoOut);
      assert.ok(Math.abs(dpoLosses[0] - Math.log(2)) < 1e-4, `first DPO loss ${dpoLosses[0]}`);
      assert.ok(dpoLosses.at(-1)! < dpoLosses[0], `${precision} dpo losses ${dpoLosses.join(', ')}`);

      // a reward model: adapters and a new score head over the quantized base, saved as one PEFT
      // adapter (score in modules_to_save) and loaded as a reward model from that directory alone
      const rmOut = join(dir, `rm-${precision}`);
      const rm = ['rm', ...common, '--data', pairsFile, '--out', rmOut, '--lr', '0.05', '--steps', '6'];
      assert.equal(await cli(['train', ...rm, '--batch-size', '2']), 0);
      const rmLosses = lossesOf(rmOut);
      assert.ok(rmLosses.at(-1)! < rmLosses[0], `${precision} rm losses ${rmLosses.join(', ')}`);
      assert.ok(!existsSync(join(rmOut, 'model')));
      const rewardModel = await loadRewardLanguageModel(join(rmOut, 'adapter'));
      try {
        const rewards = await rewardModel.scalarHead([rewardModel.tokenizer.encode('Tom had a ball. He was happy.')]);
        assert.ok(Number.isFinite(rewards[0]), `reward ${rewards[0]}`);
      } finally {
        await rewardModel.dispose();
      }

      // a value model the same way: over the whole set each step (batch 8 of 8), so the loss falls
      // from step to step; reloaded from its adapter alone, its values at the full responses fit
      // the rewards far better than the untrained head's did at step 1
      const valueOut = join(dir, `value-${precision}`);
      const value = ['value', ...common, '--data', valueFile, '--out', valueOut, '--lr', '0.02', '--steps', '8'];
      assert.equal(await cli(['train', ...value, '--batch-size', '8']), 0);
      const valueLosses = lossesOf(valueOut);
      assert.ok(
        valueLosses.every((loss, i) => i === 0 || loss < valueLosses[i - 1]),
        `${precision} value losses ${valueLosses.join(', ')}`,
      );
      assert.ok(!existsSync(join(valueOut, 'model')));
      assert.deepEqual([...readAdapters(join(valueOut, 'adapter')).extra.keys()], ['score.weight']);
      const valueModel = await loadRewardLanguageModel(join(valueOut, 'adapter'));
      try {
        const examples = loadValueData(valueFile, valueModel.tokenizer, { maxLength: 64 }).examples;
        const values = await valueModel.scalarHead(examples.map((e) => [...e.promptIds, ...e.responseIds]));
        const mse = values.reduce((sum, v, i) => sum + (v - examples[i].reward) ** 2, 0) / values.length;
        const untrained = trainMetrics(valueOut)[0]['mse/full_response']!;
        assert.ok(mse < untrained / 4, `${precision} value MSE ${mse} after, ${untrained} untrained`);
      } finally {
        await valueModel.dispose();
      }
    }
  }));

/** What `alignkit score ... --prompt "Story 1:" --continuation " Once upon a time." --json` prints, parsed. */
async function scoreJson(model: string[]): Promise<{ total: number; tokens: number[] }> {
  const printed: string[] = [];
  const log = console.log;
  console.log = (line: string) => printed.push(line);
  try {
    const argv = ['score', ...model, '--prompt', 'Story 1:', '--continuation', ' Once upon a time.', '--json'];
    assert.equal(await cli(argv), 0);
  } finally {
    console.log = log;
  }
  return JSON.parse(printed.at(-1)!);
}

test('a quantized GGUF without --lora-rank is refused, naming the flag; --save merged is refused too', () =>
  withTempDir(async (dir) => {
    const file = join(dir, 'model-q8_0.gguf');
    writeRandomGguf(file, cliConfig, 'q8_0', 2);
    const sft = join(dir, 'sft.jsonl');
    writeFileSync(sft, JSON.stringify({ prompt: 'a', completion: ' b' }) + '\n');
    const base = ['train', 'sft', '--model', file, '--data', sft, '--quiet', '--steps', '1'];
    await assert.rejects(
      cli([...base, '--out', join(dir, 'a')]),
      /model-q8_0\.gguf: holds quantized weights \(Q8_0\); training runs on float32 weights unless it trains LoRA adapters over the quantized base: pass --lora-rank R/,
    );
    await assert.rejects(
      cli([...base, '--out', join(dir, 'b'), '--lora-rank', '2', '--save', 'merged']),
      /field "save": a quantized base is not merged into a float32 model/,
    );
  }));

/**
 * A LoRA run over the file killed after step 3 and resumed (trainKilledAndResumed's checks), and
 * its adapters (and a scalar head's `score.weight`) equal bit for bit those of a run never stopped.
 */
async function killAndResume<Item>(
  dir: string,
  precision: GgufPrecision,
  objective: Objective<Item>,
  data: readonly Item[],
  modelKind: 'causal-lm' | 'reward-model',
) {
  const file = join(dir, `model-${precision}.gguf`);
  writeRandomGguf(file, cliConfig, precision, 13);
  const options = (outDir: string) => ({
    ...checkpointedRun,
    objective,
    model: readLocalCheckpoint(file, undefined, { keepQuantized: true }),
    train: data,
    lr: 0.02,
    outDir,
    modelKind,
    lora: { rank: 4, alpha: 8, targets: ['q_proj', 'v_proj'] },
  });
  const label = `${precision} ${objective.kind}`;
  const straight = join(dir, `straight-${precision}-${objective.kind}`);
  const killed = join(dir, `killed-${precision}-${objective.kind}`);
  await trainKilledAndResumed(options, straight, killed);

  const a = readAdapters(join(straight, 'adapter'));
  const b = readAdapters(join(killed, 'adapter'));
  assert.equal(a.adapters.size, 2 * 2 * cliConfig.numLayers, label);
  assert.ok(
    [...a.adapters].some(([n, t]) => n.includes('lora_B') && t.data.some((v) => v !== 0)),
    `${label}: the adapters trained`,
  );
  assert.deepEqual([...a.extra.keys()], modelKind === 'reward-model' ? ['score.weight'] : [], label);
  for (const [name, t] of [...a.adapters, ...a.extra])
    assert.deepEqual(b.adapters.get(name)?.data ?? b.extra.get(name)?.data, t.data, `${label}: ${name} after resume`);
}

for (const precision of ['q8_0', 'q4_0'] as GgufPrecision[])
  test(`${precision}: a killed QLoRA run resumes from its last checkpoint with the adapters (and a value model's score head) of a run never stopped`, () =>
    withTempDir(async (dir) => {
      const examples = [1, 2, 3, 4].flatMap((seed) => sftExamples(cliConfig.vocabSize, seed));
      await killAndResume(dir, precision, sftObjective(), examples, 'causal-lm');
      const valued = examples.map((e, i) => ({ ...e, reward: (i % 3) - 1 }));
      await killAndResume(dir, precision, valueObjective(), valued, 'reward-model');
    }));
