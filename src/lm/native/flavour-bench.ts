/**
 * What one decode step of a small model costs in each graph flavour (`alignkit bench --section
 * kernels`): the standard step (opset-23 Attention and RotaryEmbedding) against the contrib
 * prototype (models/contrib-step.ts) with opset-23 Attention or GroupQueryAttention, in float32,
 * 8-bit and 4-bit weights; for GroupQueryAttention the two ways of keeping its cache: new
 * keys/values returned (the kernel copies the past into a fresh present each step) or the present
 * bound to the past buffers (written in place, but onnxruntime-node copies a bound output back
 * into a new buffer on return). Graph cost only: the same feeds run in a loop, the cache at a
 * fixed fill.
 */
import { buildStepGraph, stepNames } from '../../models/inference-graphs.ts';
import { buildContribStepGraph, contribStepNames, type ContribStepOptions } from '../../models/contrib-step.ts';
import type { ModelConfig } from '../../models/config.ts';
import type { Weights } from '../../models/weights.ts';
import { GraphSession, int64, type Feed } from '../../engine/session.ts';
import { appendBias } from './attention-bias.ts';
import type { Figure } from '../../util/bench-figure.ts';

interface StepCase {
  batch: number;
  /** cache columns in use (each row's past) */
  past: number;
  /** cache capacity */
  capacity: number;
}

/** A prepared decode step: runs the same feeds each time. */
interface Variant {
  name: string;
  run: () => Promise<unknown>;
  release: () => Promise<void>;
}

/**
 * Per-step µs of each variant: rounds of `steps` runs of every variant in turn, the fastest round
 * of each (load on a shared machine drifts within seconds, so variants are interleaved).
 */
async function interleavedMicros(variants: readonly Variant[], rounds = 7, steps = 100): Promise<number[]> {
  const best = variants.map(() => Infinity);
  for (const v of variants) for (let i = 0; i < 20; i++) await v.run();
  for (let r = 0; r < rounds; r++)
    for (const [i, v] of variants.entries()) {
      const t = performance.now();
      for (let k = 0; k < steps; k++) await v.run();
      best[i] = Math.min(best[i], ((performance.now() - t) * 1000) / steps);
    }
  return best;
}

function cacheBuffers(cfg: ModelConfig, c: StepCase): { k: Float32Array; v: Float32Array }[] {
  const size = c.batch * cfg.numKvHeads * c.capacity * cfg.headDim;
  return Array.from({ length: cfg.numLayers }, () => ({
    k: Float32Array.from({ length: size }, (_, i) => Math.sin(i) * 0.5),
    v: Float32Array.from({ length: size }, (_, i) => Math.cos(i) * 0.5),
  }));
}

async function standardStep(cfg: ModelConfig, weights: Weights, c: StepCase): Promise<Variant> {
  const session = await GraphSession.create(buildStepGraph(cfg, weights), 'standard step', { threads: 1 });
  const B = c.batch;
  const valid = Array.from({ length: B }, () => new Uint8Array(c.past).fill(1));
  const feeds: Record<string, Feed> = {
    [stepNames.ids]: { dims: [B, 1], data: int64(Array(B).fill(5)) },
    [stepNames.positions]: { dims: [B, 1], data: int64(Array(B).fill(c.past)) },
    [stepNames.bias]: {
      dims: [B, 1, 1, c.capacity + 1],
      data: appendBias(valid, c.capacity, Array(B).fill(1), 1, null, []),
    },
    [stepNames.rows]: { dims: [0], data: int64([]) },
    [stepNames.targets]: { dims: [0], data: int64([]) },
    [stepNames.lastRows]: { dims: [B], data: int64(Array.from({ length: B }, (_, b) => b)) },
  };
  const dims = [B, cfg.numKvHeads, c.capacity, cfg.headDim];
  cacheBuffers(cfg, c).forEach((layer, l) => {
    feeds[stepNames.pastK(l)] = { dims, data: layer.k };
    feeds[stepNames.pastV(l)] = { dims, data: layer.v };
  });
  return {
    name: 'standard',
    run: () => session.run(feeds, [stepNames.nextLogprobs, stepNames.newKv]),
    release: () => session.release(),
  };
}

async function contribStep(
  cfg: ModelConfig,
  weights: Weights,
  c: StepCase,
  name: string,
  options: ContribStepOptions & { inPlace?: boolean },
): Promise<Variant> {
  const names = contribStepNames;
  const session = await GraphSession.create(buildContribStepGraph(cfg, weights, options), 'contrib step', {
    threads: 1,
  });
  const B = c.batch;
  const groupQuery = options.attention === 'group-query';
  // GroupQueryAttention's bias spans the filled columns, Attention's the whole capacity
  const width = groupQuery ? c.past : c.capacity;
  const valid = Array.from({ length: B }, () => new Uint8Array(c.past).fill(1));
  const feeds: Record<string, Feed> = {
    [names.ids]: { dims: [B, 1], data: int64(Array(B).fill(5)) },
    [names.positions]: { dims: [B, 1], data: int64(Array(B).fill(c.past)) },
    [names.bias]: { dims: [B, 1, 1, width + 1], data: appendBias(valid, width, Array(B).fill(1), 1, null, []) },
    [names.lastRows]: { dims: [B], data: int64(Array.from({ length: B }, (_, b) => b)) },
    [names.rows]: { dims: [0], data: int64([]) },
    [names.targets]: { dims: [0], data: int64([]) },
  };
  if (groupQuery) {
    feeds[names.seqlensK] = { dims: [B], data: new Int32Array(B).fill(c.past) };
    feeds[names.totalLength] = { dims: [], data: Int32Array.of(c.past + 1) };
  }
  const into: Record<string, Feed> = {};
  const dims = [B, cfg.numKvHeads, c.capacity, cfg.headDim];
  cacheBuffers(cfg, c).forEach((layer, l) => {
    feeds[names.pastK(l)] = { dims, data: layer.k };
    feeds[names.pastV(l)] = { dims, data: layer.v };
    if (options.inPlace) {
      into[names.presentK(l)] = feeds[names.pastK(l)];
      into[names.presentV(l)] = feeds[names.pastV(l)];
    }
  });
  const fetch = options.inPlace ? [names.nextLogprobs] : [names.nextLogprobs, names.newKv];
  return { name, run: () => session.run(feeds, fetch, into), release: () => session.release() };
}

/** Decode-step figures of a small model (stories260K) per flavour, at a few batch sizes and cache fills. */
export async function benchFlavours(cfg: ModelConfig, weights: Weights, label: string): Promise<Figure[]> {
  const cases: StepCase[] = [
    { batch: 1, past: 32, capacity: 48 },
    { batch: 1, past: 256, capacity: 384 },
    { batch: 8, past: 256, capacity: 384 },
  ];
  const figures: Figure[] = [];
  for (const c of cases) {
    const what = `${label} step ${c.batch} row${c.batch > 1 ? 's' : ''} × ${c.past} cached`;
    const variants = [
      await standardStep(cfg, weights, c),
      await contribStep(cfg, weights, c, 'contrib', {}),
      await contribStep(cfg, weights, c, 'contrib, GQA', { attention: 'group-query' }),
      await contribStep(cfg, weights, c, 'contrib, GQA in place', { attention: 'group-query', inPlace: true }),
      await contribStep(cfg, weights, c, 'contrib, 8-bit', { quantize: 8 }),
      await contribStep(cfg, weights, c, 'contrib, 4-bit', { quantize: 4 }),
    ];
    const [standard, ...others] = await interleavedMicros(variants);
    for (const v of variants) await v.release();
    figures.push({ name: `${what}: standard`, value: standard, unit: 'µs' });
    others.forEach((us, i) =>
      figures.push({
        name: `${what}: ${variants[i + 1].name}`,
        value: us,
        unit: 'µs',
        reference: { name: 'standard step', value: Math.round(standard), ratio: standard / us },
      }),
    );
  }
  return figures;
}
