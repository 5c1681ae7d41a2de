/**
 * DPO's reference log-probs, computed once before training by a forward pass of the reference
 * model (the initial policy unless another is given) and cached on disk, keyed by the data's
 * token ids and the reference weights, so a resumed or repeated run reuses them and a trained
 * policy is never mistaken for the reference.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { GraphSession } from '../engine/session.ts';
import type { ModelConfig } from '../models/config.ts';
import type { QuantizedWeights, Weights } from '../models/weights.ts';
import { writeJsonAtomic } from '../util/atomic-write.ts';
import { pairSums, sequenceLogpFeeds, sequenceLogpOutputs, sequenceLogps } from './dpo-objective.ts';
import type { PreferencePair } from './examples.ts';
import { pairLength } from './examples.ts';
import type { Objective } from './objective.ts';
import { buildTrainGraph } from './train-graph.ts';

/** Token budget of one reference batch (rows × padded length). */
const BATCH_TOKENS = 8192;

interface CacheFile {
  key: string;
  chosen: number[];
  rejected: number[];
}

export function weightsFingerprint(
  cfg: ModelConfig,
  weights: Weights,
  quantized: QuantizedWeights = new Map(),
): string {
  const h = createHash('sha256');
  h.update(JSON.stringify(cfg));
  const bytes = (a: ArrayBufferView) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  for (const name of [...weights.keys()].sort()) {
    const t = weights.get(name)!;
    h.update(name);
    h.update(bytes(t.data));
  }
  // a quantized base: its block codes, one matrix in memory at a time
  for (const name of [...quantized.keys()].sort()) {
    const q = quantized.get(name)!.load();
    h.update(`${name}:q${q.bits}`);
    for (const part of [q.data, q.scales, q.zeroPoints]) if (part) h.update(bytes(part));
  }
  return h.digest('hex');
}

function dataFingerprint(pairs: readonly PreferencePair[]): string {
  const h = createHash('sha256');
  for (const p of pairs) h.update(JSON.stringify([p.promptIds, p.chosenIds, p.rejectedIds]));
  return h.digest('hex');
}

/** A forward-only graph giving the summed response log-probs of each pair (and each response token's, as an output). */
export const logpsOnly: Objective<PreferencePair> = {
  kind: 'reference-logps',
  addLoss(ctx) {
    const { chosen, tokens } = sequenceLogps(ctx);
    return { loss: ctx.o.reduceSum(chosen, [0], false), outputs: { [sequenceLogpOutputs.tokens]: tokens } };
  },
  normalizer: (items) => items.length,
  feeds: (items) => sequenceLogpFeeds(items),
  sequences: () => [],
  metrics: (items) => ({ sums: {}, count: items.length }),
  length: pairLength,
};

export async function computeSequenceLogps(
  cfg: ModelConfig,
  weights: Weights,
  pairs: readonly PreferencePair[],
  onProgress?: (done: number, total: number) => void,
  quantized?: QuantizedWeights,
): Promise<{ chosen: number[]; rejected: number[] }> {
  // weights fed as inputs, as in the training and evaluation graphs, so that the policy at step 0 scores the same
  // (a quantized base's matrices stay block codes, as in its LoRA training graph)
  const graph = buildTrainGraph(cfg, weights, { full: new Set(), frozen: 'input', quantized }, logpsOnly, {
    gradients: false,
    name: 'reference-logps',
  });
  const weightFeeds = Object.fromEntries(
    graph.weightInputs.map((n) => [n, { dims: weights.get(n)!.shape, data: weights.get(n)!.data }]),
  );
  const session = await GraphSession.create(graph.graph, 'reference log-probs graph');
  const chosen = new Array<number>(pairs.length);
  const rejected = new Array<number>(pairs.length);
  try {
    const order = pairs.map((_, i) => i).sort((a, b) => pairLength(pairs[b]) - pairLength(pairs[a]));
    for (let start = 0; start < order.length;) {
      const size = Math.max(1, Math.floor(BATCH_TOKENS / (2 * pairLength(pairs[order[start]]))));
      const idx = order.slice(start, start + size);
      start += idx.length;
      const batch = idx.map((i) => pairs[i]);
      const out = await session.run({ ...logpsOnly.feeds(batch, 1), ...weightFeeds }, [sequenceLogpOutputs.tokens]);
      const sums = pairSums(batch, out[sequenceLogpOutputs.tokens].data as Float32Array);
      idx.forEach((i, k) => {
        chosen[i] = sums.chosen[k];
        rejected[i] = sums.rejected[k];
      });
      onProgress?.(start, order.length);
    }
  } finally {
    await session.release();
  }
  return { chosen, rejected };
}

/** Fills refChosen/refRejected of every pair, from `cacheFile` when it matches, else computed and cached. */
export async function attachReferenceLogps(
  cfg: ModelConfig,
  referenceWeights: Weights,
  pairs: PreferencePair[],
  cacheFile: string,
  onProgress?: (done: number, total: number) => void,
  quantized?: QuantizedWeights,
): Promise<{ cached: boolean }> {
  const key = `${weightsFingerprint(cfg, referenceWeights, quantized)}:${dataFingerprint(pairs)}`;
  let values: { chosen: number[]; rejected: number[] } | undefined;
  if (existsSync(cacheFile)) {
    const cached = JSON.parse(readFileSync(cacheFile, 'utf8')) as CacheFile;
    if (cached.key === key && cached.chosen.length === pairs.length) values = cached;
  }
  const cached = values !== undefined;
  if (!values) {
    values = await computeSequenceLogps(cfg, referenceWeights, pairs, onProgress, quantized);
    writeJsonAtomic(cacheFile, { key, chosen: values.chosen, rejected: values.rejected } satisfies CacheFile);
  }
  pairs.forEach((p, i) => {
    p.refChosen = values!.chosen[i];
    p.refRejected = values!.rejected[i];
  });
  return { cached };
}
