/**
 * A loaded native model: its config, the step session, and the typed-array plumbing to run it.
 */
// onnxruntime itself (session.ts, graph-flavour.ts) is imported when a step first needs it: a
// model that the WebAssembly kernel serves never loads its native library (~20-30 ms of start-up)
import type { GraphSession } from '../../engine/session.ts';
import { int64 } from '../../engine/session-types.ts';
import { buildStepGraph, stepNames } from '../../models/inference-graphs.ts';
import type { ModelConfig } from '../../models/config.ts';
import type { QuantizedWeights, Weights } from '../../models/weights.ts';
import type { QuantizedMatmulOptions } from '../../engine/quantized-matmul.ts';
import { KvCache } from './kv-cache.ts';
import type { StepBiases } from './attention-bias.ts';
import { attentionWindows } from '../../models/architectures/registry.ts';
import { envVar, hostTurn } from '../../util/io.ts';
import { buildContribStepGraph, contribStepUnsupported } from '../../models/contrib-step.ts';
import type { GraphFlavour } from '../../engine/graph-flavour.ts';
import { WasmDecoder, wasmDecoderUnsupported } from './wasm-decoder.ts';

/** What runs a native model's steps. */
export const STEP_RUNTIMES = ['auto', 'onnxruntime', 'wasm'] as const;
export type StepRuntime = (typeof STEP_RUNTIMES)[number];

/**
 * Below this many parameters `auto` runs steps on the WebAssembly kernel (wasm-decoder.ts):
 * there onnxruntime's per-kernel dispatch costs more than the arithmetic. Measured (one decode
 * step, 1 row, 128 cached): 2.3× onnxruntime's speed at 0.35 M parameters, 1.8–1.9× at 1.6 and
 * 3.9 M, 1.2× at 7.6 M.
 */
export const WASM_DECODER_PARAMETERS = 4e6;

/**
 * `auto` sends a step to the kernel while its tokens × parameters stay under this: the kernel
 * multiplies one token at a time, onnxruntime's batched matmuls win on prefills and wide batches
 * (8 rows: even at 0.35 M parameters, 0.80× at 1.6 M, 0.71× at 3.9 M).
 */
export const WASM_STEP_WORK = 4e6;

/** How a native model runs: the inference graph's flavour (see graph-flavour.ts) and the step runtime. */
export interface RuntimeOptions {
  /** `standard` (default: measured as fast as `contrib` on CPU, and portable) or `contrib` */
  graph?: GraphFlavour;
  /**
   * `auto` (default): the WebAssembly kernel for llama-family models under
   * WASM_DECODER_PARAMETERS, onnxruntime otherwise; `wasm` asks for the kernel (a model it cannot
   * run falls back to onnxruntime and says so)
   */
  runtime?: StepRuntime;
}

/** the contrib kernels the contrib step uses (with opset-23 Attention) */
const CONTRIB_STEP_KERNELS = ['RotaryEmbedding', 'SkipSimplifiedLayerNormalization', 'QuickGelu'];

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
  layers: ReadonlyMap<number, Float32Array>;
}

export class NativeRuntime {
  /** which attention biases each step needs (full-attention and/or windowed layers) */
  readonly windows: { full: boolean; window: number | null };

  private session: Promise<GraphSession> | null = null;

  private constructor(
    readonly cfg: ModelConfig,
    /** builds the onnxruntime session (once, when first needed) */
    private readonly createSession: () => Promise<GraphSession>,
    /** the flavour the step graph is built in */
    readonly graph: GraphFlavour,
    /** the WebAssembly kernel, where it runs this model's steps */
    private readonly wasm: WasmDecoder | null,
    /** the largest step (tokens) the kernel takes: all with `--runtime wasm`, small ones with `auto` */
    private readonly wasmTokens: number,
    /** what loading decided that a user should hear once (a flavour or runtime that fell back) */
    readonly notes: readonly string[],
  ) {
    this.windows = attentionWindows(cfg);
  }

  /** `wasm` where the WebAssembly kernel runs the steps (hidden states and scalar heads still go to onnxruntime) */
  get runtime(): 'onnxruntime' | 'wasm' {
    return this.wasm ? 'wasm' : 'onnxruntime';
  }

  private step(): Promise<GraphSession> {
    this.session ??= this.createSession();
    return this.session;
  }

  /**
   * Builds the session (with the WebAssembly kernel, only when a step needs onnxruntime). With
   * `consumeWeights` the map is emptied once the graph bytes exist, so the JS copy of the
   * weights can be collected before onnxruntime makes its own.
   */
  static async create(
    cfg: ModelConfig,
    weights: Weights,
    name: string,
    consumeWeights = false,
    options: RuntimeOptions & { quantized?: QuantizedWeights; matmul?: QuantizedMatmulOptions } = {},
  ): Promise<NativeRuntime> {
    const { quantized = new Map(), matmul } = options;
    let parameters = 0;
    for (const w of weights.values()) parameters += w.data.length;
    for (const q of quantized.values()) parameters += q.n * q.k;
    let flavour = options.graph ?? 'standard';
    const notes: string[] = [];
    if (flavour === 'contrib') {
      const { requireContribKernels } = await import('../../engine/graph-flavour.ts');
      await requireContribKernels(CONTRIB_STEP_KERNELS, { field: '--graph' });
      const unsupported = contribStepUnsupported(cfg, quantized.size);
      if (unsupported) {
        notes.push(`graph flavour contrib: ${unsupported}; using the standard graph`);
        flavour = 'standard';
      }
    }
    const createSession = async () =>
      (await import('../../engine/session.ts')).GraphSession.create(
        flavour === 'contrib' ? buildContribStepGraph(cfg, weights) : buildStepGraph(cfg, weights, quantized, matmul),
        `${name} ${flavour} step graph`,
        {
          // below ~10M parameters a decode step is too small to split across threads
          threads: parameters < 10e6 && !envVar('ALIGNKIT_THREADS') ? 1 : undefined,
          releaseWeights: consumeWeights
            ? () => {
                weights.clear();
                quantized.clear();
              }
            : undefined,
        },
      );
    let wasm: WasmDecoder | null = null;
    const runtime = options.runtime ?? 'auto';
    if (runtime !== 'onnxruntime') {
      const unsupported = wasmDecoderUnsupported(cfg, weights, quantized.size);
      if (runtime === 'wasm' && unsupported) notes.push(`runtime wasm: ${unsupported}; using onnxruntime`);
      if (!unsupported && (runtime === 'wasm' || parameters < WASM_DECODER_PARAMETERS))
        wasm = await WasmDecoder.create(cfg, weights);
    }
    const wasmTokens = runtime === 'wasm' ? Infinity : Math.floor(WASM_STEP_WORK / parameters);
    const rt = new NativeRuntime(cfg, createSession, flavour, wasm, wasmTokens, notes);
    if (!wasm) await rt.step();
    return rt;
  }

  emptyCache(batch: number): KvCache {
    return KvCache.empty(this.cfg, batch);
  }

  /**
   * The step, run at once, where the WebAssembly kernel takes it (null: it does not). Its arrays
   * are views into the kernel's memory, which its next step overwrites: read them before
   * anything awaits (a server's concurrent requests share the kernel). A decode step then
   * allocates no result arrays, which a short decode would otherwise pay a scavenge for.
   */
  runOnKernel(req: StepRequest): StepResult | null {
    return this.wasm?.handles(req) && req.batch * req.length <= this.wasmTokens ? this.wasm.run(req) : null;
  }

  async run(req: StepRequest): Promise<StepResult> {
    // a page paints and sees its Stop button here (util/io-browser.ts); nothing in Node
    const turn = hostTurn();
    if (turn) await turn;
    const now = this.runOnKernel(req);
    // copies: the caller reads them after an await, when another request's step may have run
    if (now)
      return {
        ...now,
        nextLogprobs: now.nextLogprobs.slice(),
        targetLogprobs: now.targetLogprobs.slice(),
        newKv: now.newKv?.slice(),
      };
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
    const out = await (await this.step()).run(feeds, fetch);
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

  /**
   * Builds the onnxruntime session now where the WebAssembly kernel serves only some steps (`auto`:
   * larger ones, hidden states and scalar heads go to onnxruntime), so that no later step pays for
   * building it (a few hundred ms: a server's first batch of joining prompts would).
   */
  async prepare(): Promise<void> {
    if (this.wasm) await this.step();
  }

  async release(): Promise<void> {
    if (this.session) await (await this.session).release();
  }
}
