/**
 * Training test fixtures: tiny examples and pairs over a small vocabulary, and a finite-difference
 * check of a whole training graph's gradients along random directions.
 */
import assert from 'node:assert/strict';
import { GraphSession, type Feed } from '../../src/engine/session.ts';
import type { ModelConfig } from '../../src/models/config.ts';
import type { Weights } from '../../src/models/weights.ts';
import type { PreferencePair, SftExample } from '../../src/train/examples.ts';
import type { Objective } from '../../src/train/objective.ts';
import { buildTrainGraph, gradOutputName, LOSS_OUTPUT } from '../../src/train/train-graph.ts';
import type { TrainableSpec } from '../../src/train/training-parameters.ts';
import { createRng } from '../../src/util/random.ts';

const at = { file: 'test', line: 1, truncated: false };

export function sftExamples(vocab: number, seed = 1): SftExample[] {
  const rng = createRng(seed);
  const ids = (n: number) => Array.from({ length: n }, () => 3 + rng.int(vocab - 3));
  return [
    { ...at, promptIds: [1, ...ids(3)], responseIds: [...ids(4), 2] },
    { ...at, promptIds: [1, ...ids(1)], responseIds: [...ids(2), 2] },
    { ...at, promptIds: [1], responseIds: [...ids(6), 2] },
  ];
}

export function preferencePairs(vocab: number, seed = 2, refs = true): PreferencePair[] {
  const rng = createRng(seed);
  const ids = (n: number) => Array.from({ length: n }, () => 3 + rng.int(vocab - 3));
  const pairs: PreferencePair[] = [
    { ...at, promptIds: [1, ...ids(3)], chosenIds: [...ids(3), 2], rejectedIds: [...ids(5), 2] },
    { ...at, promptIds: [1, ...ids(2)], chosenIds: [...ids(4), 2], rejectedIds: [...ids(2), 2] },
  ];
  if (refs)
    pairs.forEach((p, i) => {
      p.refChosen = -8 - i;
      p.refRejected = -9 + i;
    });
  return pairs;
}

export interface DirectionalCheck {
  name: string;
  analytic: number;
  numeric: number;
}

/**
 * For each trained tensor, the derivative of the loss along a random unit direction in that
 * tensor: analytic (gradient · direction) and central differences of the evaluation graph.
 */
export async function directionalChecks<Item>(
  cfg: ModelConfig,
  weights: Weights,
  spec: TrainableSpec,
  objective: Objective<Item>,
  items: Item[],
  h = 0.02,
): Promise<DirectionalCheck[]> {
  const trainGraph = buildTrainGraph(cfg, weights, spec, objective, { gradients: true });
  const evalGraph = buildTrainGraph(cfg, weights, spec, objective, { gradients: false });
  const train = await GraphSession.create(trainGraph.graph, 'train');
  const evaluate = await GraphSession.create(evalGraph.graph, 'eval');
  const tensors = new Map([...weights, ...(spec.lora?.adapters ?? [])]);
  const batch = objective.feeds(items, objective.normalizer(items));
  const feeds = (over: Map<string, Float32Array> = new Map()): Record<string, Feed> => ({
    ...batch,
    ...Object.fromEntries(
      trainGraph.weightInputs.map((n) => [
        n,
        { dims: tensors.get(n)!.shape, data: over.get(n) ?? tensors.get(n)!.data },
      ]),
    ),
  });
  const out = await train.run(feeds());
  const rng = createRng(11);
  const checks: DirectionalCheck[] = [];
  for (const name of trainGraph.trained) {
    const x = tensors.get(name)!.data;
    const u = Float32Array.from(x, () => rng.normal());
    const norm = Math.hypot(...u);
    u.forEach((v, i) => {
      u[i] = v / norm;
    });
    const grad = out[gradOutputName(name)].data as Float32Array;
    assert.equal(grad.length, x.length, `gradient of ${name} has the tensor's size`);
    let analytic = 0;
    for (let i = 0; i < u.length; i++) analytic += grad[i] * u[i];
    const lossAt = async (s: number) =>
      (await evaluate.run(feeds(new Map([[name, Float32Array.from(x, (v, i) => v + s * h * u[i])]])), [LOSS_OUTPUT]))[
        LOSS_OUTPUT
      ].data[0] as number;
    checks.push({ name, analytic, numeric: ((await lossAt(1)) - (await lossAt(-1))) / (2 * h) });
  }
  await train.release();
  await evaluate.release();
  return checks;
}

/** float32 losses of O(1): differences of 2h·gradient are good to about 1e-5 absolute. */
export function assertDirectional(checks: readonly DirectionalCheck[], label: string, rel = 0.01, abs = 2e-4): void {
  assert.ok(checks.length > 0, `${label}: no trained tensors`);
  for (const c of checks) {
    const err = Math.abs(c.analytic - c.numeric);
    assert.ok(
      err <= rel * Math.abs(c.numeric) + abs,
      `${label} ${c.name}: analytic ${c.analytic}, numeric ${c.numeric}`,
    );
  }
}
