/**
 * A loaded native model: its config, the step session, and the typed-array plumbing to run it.
 */
import { GraphSession, int64 } from '../../engine/session.ts';
import { buildStepGraph, stepNames } from '../../models/inference-graphs.ts';
import type { ModelConfig } from '../../models/config.ts';
import type { QuantizedWeights, Weights } from '../../models/weights.ts';
import type { QuantizedMatmulOptions } from '../../engine/quantized-matmul.ts';
import { KvCache } from './kv-cache.ts';
import type { StepBiases } from './attention-bias.ts';
import { attentionWindows } from '../../models/architectures/registry.ts';

export interface StepRequest {
  /** [B, T] token ids and absolute positions, row-major */
  ids: readonly number[];
  positions: readonly number[];
  /** [B, 1, T, C+T] additive attention biases (C = the cache's capacity), for the kinds of layers the model has */
  biases: StepBiases;
  batch: number;
  length: number;
  cache: KvCache;
  /** flattened b·T+i positions whose successor's log-prob (`targets`) is wanted */
  scoreRows?: readonly number[];
  targets?: readonly number[];
  /** flattened positions whose full next-token log-probs are wanted */
  nextRows?: readonly number[];
  /** return the new tokens' keys/values (to append to the cache) */
  fetchNewKv: boolean;
  /** residual-stream layers to return, each [B, T, D] */
  layers?: readonly number[];
  /** also return the scalar head at `nextRows` (reward/value models) */
  fetchScalar?: boolean;
}

export interface StepResult {
  targetLogprobs: Float32Array;
  /** [nextRows.length, V] */
  nextLogprobs: Float32Array;
  /** [nextRows.length] scalar-head values, when requested */
  scalar?: Float32Array;
  /** [B, T, L·2·Hkv·hd], when asked for */
  newKv?: Float32Array;
  layers: Map<number, Float32Array>;
}

export class NativeRuntime {
  /** which attention biases each step needs (full-attention and/or windowed layers) */
  readonly windows: { full: boolean; window: number | null };

  private constructor(
    readonly cfg: ModelConfig,
    private readonly step: GraphSession,
  ) {
    this.windows = attentionWindows(cfg);
  }

  /**
   * Builds the session. With `consumeWeights` the map is emptied once the graph bytes exist, so
   * the JS copy of the weights can be collected before onnxruntime makes its own.
   */
  static async create(
    cfg: ModelConfig,
    weights: Weights,
    name: string,
    consumeWeights = false,
    quantization: { quantized?: QuantizedWeights; matmul?: QuantizedMatmulOptions } = {},
  ): Promise<NativeRuntime> {
    const { quantized = new Map(), matmul } = quantization;
    let parameters = 0;
    for (const w of weights.values()) parameters += w.data.length;
    for (const q of quantized.values()) parameters += q.n * q.k;
    const graph = buildStepGraph(cfg, weights, quantized, matmul);
    return new NativeRuntime(
      cfg,
      await GraphSession.create(graph, `${name} step graph`, {
        // below ~10M parameters a decode step is too small to split across threads
        threads: parameters < 10e6 && !process.env.ALIGNKIT_THREADS ? 1 : undefined,
        releaseWeights: consumeWeights
          ? () => {
              weights.clear();
              quantized.clear();
            }
          : undefined,
      }),
    );
  }

  emptyCache(batch: number): KvCache {
    return KvCache.empty(this.cfg, batch);
  }

  async run(req: StepRequest): Promise<StepResult> {
    const { batch: B, length: T } = req;
    const C = req.cache.capacity;
    const scoreRows = req.scoreRows ?? [];
    const nextRows = req.nextRows ?? [];
    const feeds: Record<string, { dims: number[]; data: Float32Array | BigInt64Array }> = {
      [stepNames.ids]: { dims: [B, T], data: int64(req.ids) },
      [stepNames.positions]: { dims: [B, T], data: int64(req.positions) },
      [stepNames.rows]: { dims: [scoreRows.length], data: int64(scoreRows) },
      [stepNames.targets]: { dims: [scoreRows.length], data: int64(req.targets ?? []) },
      [stepNames.lastRows]: { dims: [nextRows.length], data: int64(nextRows) },
    };
    if (req.biases.full) feeds[stepNames.bias] = { dims: [B, 1, T, C + T], data: req.biases.full };
    if (req.biases.window) feeds[stepNames.windowBias] = { dims: [B, 1, T, C + T], data: req.biases.window };
    const dims = req.cache.dims;
    req.cache.layers.forEach((layer, l) => {
      feeds[stepNames.pastK(l)] = { dims, data: layer.k };
      feeds[stepNames.pastV(l)] = { dims, data: layer.v };
    });
    // every fetched output costs a few µs, a decode step of a small model only ~100
    const fetch: string[] = [];
    if (nextRows.length) fetch.push(stepNames.nextLogprobs);
    if (scoreRows.length) fetch.push(stepNames.targetLogprobs);
    if (req.fetchNewKv) fetch.push(stepNames.newKv);
    for (const l of req.layers ?? []) fetch.push(stepNames.layer(l));
    if (req.fetchScalar) fetch.push(stepNames.scalar);
    const out = await this.step.run(feeds, fetch);
    const layers = new Map<number, Float32Array>();
    for (const l of req.layers ?? []) layers.set(l, out[stepNames.layer(l)].data as Float32Array);
    return {
      targetLogprobs: scoreRows.length ? (out[stepNames.targetLogprobs].data as Float32Array) : new Float32Array(0),
      nextLogprobs: nextRows.length ? (out[stepNames.nextLogprobs].data as Float32Array) : new Float32Array(0),
      newKv: req.fetchNewKv ? (out[stepNames.newKv].data as Float32Array) : undefined,
      layers,
      scalar: req.fetchScalar ? (out[stepNames.scalar].data as Float32Array) : undefined,
    };
  }

  async release(): Promise<void> {
    await this.step.release();
  }
}
