/**
 * The step of a small llama-family model run by a WebAssembly SIMD kernel (wasm/llama-step.c)
 * instead of onnxruntime: below a few million parameters a decode step is dispatch, not
 * arithmetic (stories260K: ~93 onnxruntime kernels at ~1 µs each). It takes the same StepRequest
 * as the onnxruntime session and gives the same StepResult, so decode states, forks, holes and
 * biases work unchanged; hidden states and scalar heads stay with onnxruntime.
 *
 * The JS KvCache stays the cache of record. The kernel reads a mirror of it in its own memory,
 * kept per cache object: a step copies only the columns appended since the last one, and the
 * whole cache when a new cache object arrives (growth, fork, packing). No Node imports: the
 * same module runs in a browser.
 */
import { AlignkitError } from '../../errors.ts';
import type { ModelConfig } from '../../models/config.ts';
import type { Weights } from '../../models/weights.ts';
import { ropeTables } from '../../models/rope.ts';
import { lmHead } from '../../models/transformer.ts';
import { layerAttention } from '../../models/architectures/registry.ts';
import type { KvCache } from './kv-cache.ts';
import type { StepRequest, StepResult } from './runtime.ts';
import { LLAMA_STEP_WASM } from './wasm/llama-step-wasm.ts';

const FLOAT = 4;
const PAGE = 65536;

/** Why the kernel cannot run this model (null: it can). */
export function wasmDecoderUnsupported(cfg: ModelConfig, weights: Weights, quantizedMatrices = 0): string | null {
  if (quantizedMatrices > 0)
    return 'the WebAssembly kernel multiplies float32 weights, and this model keeps its matrices quantized';
  if (cfg.family !== 'llama' && cfg.family !== 'qwen3')
    return `the WebAssembly kernel covers the llama and qwen3 families, not ${cfg.architecture}`;
  const layers = layerAttention(cfg);
  if (layers.some((l) => l.softcap !== null || l.scale !== layers[0].scale))
    return 'the WebAssembly kernel takes one attention scale and no soft-cap';
  if (new Set(layers.map((l) => JSON.stringify(l.rope))).size > 1 || !layers[0].rope)
    return 'the WebAssembly kernel takes one RoPE table';
  if (cfg.headDim % 2 !== 0) return `the WebAssembly kernel needs an even head size, not ${cfg.headDim}`;
  if (!weights.has('model.embed_tokens.weight')) return 'the WebAssembly kernel needs the model weights';
  let floats = 0;
  for (const w of weights.values()) floats += w.data.length;
  if (floats * FLOAT > MAX_WEIGHT_BYTES)
    return `the WebAssembly kernel holds at most ${MAX_WEIGHT_BYTES / 2 ** 30} GiB of float32 weights, and this model has ${((floats * FLOAT) / 2 ** 30).toFixed(1)} GiB`;
  return null;
}

/** wasm32 addresses 4 GiB; half of it for weights leaves room for caches and scratch */
const MAX_WEIGHT_BYTES = 2 ** 31;

/** Grows the kernel's memory to `bytes`, or says in one line why it cannot. */
function growTo(memory: WebAssembly.Memory, bytes: number): void {
  const needed = bytes - memory.buffer.byteLength;
  if (needed <= 0) return;
  try {
    memory.grow(Math.ceil(needed / PAGE));
  } catch {
    throw new AlignkitError(
      'capability',
      `the WebAssembly kernel's memory cannot grow to ${Math.ceil(bytes / 2 ** 20)} MiB (wasm32 addresses at most 4 GiB); use --runtime onnxruntime for steps this large`,
    );
  }
}

/** pointers per Layer struct (see llama-step.c): 15 tensors and the windowed flag */
const LAYER_WORDS = 16;
const MODEL_WORDS = 15;
const STEP_WORDS = 19;

interface Exports {
  memory: WebAssembly.Memory;
  step(model: number, step: number): void;
  __heap_base: WebAssembly.Global;
}

/** Offsets of the per-step buffers, laid out after the weights; relaid only when a step needs more room. */
interface Layout {
  sizes: Record<BufferName, number>;
  at: Record<BufferName, number>;
  end: number;
}

const BUFFERS = [
  'cache',
  'ids',
  'positions',
  'bias',
  'windowBias',
  'newKv',
  'nextRows',
  'next',
  'scoreRows',
  'targets',
  'scores',
  'scratch',
] as const;
type BufferName = (typeof BUFFERS)[number];

export class WasmDecoder {
  private f32: Float32Array;
  private i32: Int32Array;
  private layout: Layout | null = null;
  /** the cache the mirror holds (null: none), at which revision, and how many columns of each row */
  private mirroredCache: KvCache | null = null;
  private mirroredRevision = 0;
  private mirroredLengths: number[] = [];

  private constructor(
    private readonly cfg: ModelConfig,
    private readonly kernel: Exports,
    private readonly modelAt: number,
    private readonly stepAt: number,
    private readonly heapEnd: number,
  ) {
    this.f32 = new Float32Array(kernel.memory.buffer);
    this.i32 = new Int32Array(kernel.memory.buffer);
  }

  /** Instantiates the kernel (base64 wasm; another build only to compare builds) and copies the weights into its memory. */
  static async create(cfg: ModelConfig, weights: Weights, kernelBase64 = LLAMA_STEP_WASM): Promise<WasmDecoder> {
    const unsupported = wasmDecoderUnsupported(cfg, weights);
    if (unsupported) throw new AlignkitError('capability', unsupported);
    const bytes = Uint8Array.from(atob(kernelBase64), (c) => c.charCodeAt(0));
    const { instance } = await WebAssembly.instantiate(bytes);
    const kernel = instance.exports as unknown as Exports;
    const memory = kernel.memory;
    let at = align(kernel.__heap_base.value as number);
    const reserve = (bytes: number) => {
      const start = at;
      at = align(at + bytes);
      growTo(memory, at);
      return start;
    };
    const tensor = (data: Float32Array) => {
      const start = reserve(data.length * FLOAT);
      new Float32Array(memory.buffer, start, data.length).set(data);
      return start;
    };
    const weight = (name: string) => {
      const w = weights.get(name);
      if (!w) throw new AlignkitError('format', `missing weight ${name}`);
      return tensor(w.data);
    };
    const optional = (name: string) => (weights.has(name) ? weight(name) : 0);
    const layers = layerAttention(cfg);
    const tables = ropeTables(cfg.maxPositions, cfg.headDim, layers[0].rope!, 'half');
    const layerWords: number[] = [];
    layers.forEach((layer, l) => {
      const pre = `model.layers.${l}.`;
      const attention = (n: string) => `${pre}self_attn.${n}`;
      layerWords.push(
        weight(pre + 'input_layernorm.weight'),
        ...['q_proj', 'k_proj', 'v_proj', 'o_proj'].map((n) => weight(attention(`${n}.weight`))),
        ...['q_proj', 'k_proj', 'v_proj', 'o_proj'].map((n) => optional(attention(`${n}.bias`))),
        optional(attention('q_norm.weight')),
        optional(attention('k_norm.weight')),
        weight(pre + 'post_attention_layernorm.weight'),
        ...['gate_proj', 'up_proj', 'down_proj'].map((n) => weight(`${pre}mlp.${n}.weight`)),
        layer.window === null ? 0 : 1,
      );
    });
    const embed = weight('model.embed_tokens.weight');
    const headName = lmHead(cfg, { has: (n) => weights.has(n), tensor: unused, linear: unused }).weight;
    const words = {
      finalNorm: weight('model.norm.weight'),
      head: headName === 'model.embed_tokens.weight' ? embed : weight(headName),
      cos: tensor(tables.cos),
      sin: tensor(tables.sin),
    };
    const layersAt = reserve(layers.length * LAYER_WORDS * FLOAT);
    new Int32Array(memory.buffer, layersAt, layerWords.length).set(layerWords);
    const modelAt = reserve(MODEL_WORDS * FLOAT);
    const model = new Int32Array(memory.buffer, modelAt, MODEL_WORDS);
    model.set([cfg.hiddenSize, cfg.intermediateSize, cfg.numLayers, cfg.numHeads, cfg.numKvHeads, cfg.headDim]);
    model[6] = cfg.vocabSize;
    new Float32Array(memory.buffer, modelAt + 7 * FLOAT, 2).set([cfg.normEps, layers[0].scale]);
    model.set([embed, words.finalNorm, words.head, words.cos, words.sin, layersAt], 9);
    const stepAt = reserve(STEP_WORDS * FLOAT);
    return new WasmDecoder(cfg, kernel, modelAt, stepAt, at);
  }

  /** Whether the kernel answers this request (hidden states and scalar heads go to onnxruntime). */
  handles(req: StepRequest): boolean {
    return !req.layers?.length && !req.fetchScalar;
  }

  run(req: StepRequest): StepResult {
    const { numLayers: L, numKvHeads: Hkv, headDim: hd, vocabSize: V } = this.cfg;
    const { batch: B, length: T, cache } = req;
    const C = cache.capacity;
    const N = B * T;
    const nextRows = req.nextRows ?? [];
    const scoreRows = req.scoreRows ?? [];
    const kvWidth = L * 2 * Hkv * hd;
    const { hiddenSize: D, numHeads: H, intermediateSize: F } = this.cfg;
    const at = this.ensureLayout({
      cache: L * 2 * B * Hkv * C * hd,
      ids: N,
      positions: N,
      bias: req.biases.full ? N * (C + T) : 0,
      windowBias: req.biases.window ? N * (C + T) : 0,
      newKv: N * kvWidth,
      nextRows: nextRows.length,
      next: nextRows.length * V,
      scoreRows: scoreRows.length,
      targets: scoreRows.length,
      scores: scoreRows.length,
      scratch: N * (2 * D + 2 * H * hd + 2 * Hkv * hd + 2 * F) + Math.max(C + T, V),
    });
    this.syncMirror(cache, at.cache);
    // plain statements, no closures: this runs once per token
    const { f32, i32 } = this;
    i32.set(req.ids, at.ids / FLOAT);
    i32.set(req.positions, at.positions / FLOAT);
    if (req.biases.full) f32.set(req.biases.full, at.bias / FLOAT);
    if (req.biases.window) f32.set(req.biases.window, at.windowBias / FLOAT);
    if (nextRows.length) i32.set(nextRows, at.nextRows / FLOAT);
    if (scoreRows.length) {
      i32.set(scoreRows, at.scoreRows / FLOAT);
      i32.set(req.targets!, at.targets / FLOAT);
    }
    const s = this.stepAt / FLOAT;
    i32[s] = B;
    i32[s + 1] = T;
    i32[s + 2] = C;
    i32[s + 3] = cache.used;
    i32[s + 4] = at.ids;
    i32[s + 5] = at.positions;
    i32[s + 6] = req.biases.full ? at.bias : 0;
    i32[s + 7] = req.biases.window ? at.windowBias : 0;
    i32[s + 8] = at.cache;
    i32[s + 9] = at.newKv;
    i32[s + 10] = nextRows.length;
    i32[s + 11] = at.nextRows;
    i32[s + 12] = at.next;
    i32[s + 13] = scoreRows.length;
    i32[s + 14] = at.scoreRows;
    i32[s + 15] = at.targets;
    i32[s + 16] = at.scores;
    i32[s + 17] = at.scratch;
    // a decode state appends the new keys/values to this cache right after the step when they
    // fit (it grows the cache, a new object, only when they do not): the kernel writes them into
    // its copy as well, so the next step has nothing to copy from JS. The kernel writes every
    // row's T new columns from `used` on, which is where they go when each row is that long and
    // none is padded (one row, or one token for each of rows of one length); otherwise the
    // columns are copied before the next step
    const uniform =
      B === 1 || (T === 1 && nextRows.length === B && this.mirroredLengths.every((n) => n === cache.used));
    const writeCache = req.fetchNewKv && cache.used + T <= C && uniform;
    i32[s + 18] = writeCache ? 1 : 0;
    this.kernel.step(this.modelAt, this.stepAt);
    if (writeCache) this.mirroredLengths.fill(cache.used + T);
    // views into the kernel's memory, not copies (see NativeRuntime.runOnKernel)
    return {
      nextLogprobs: f32.subarray(at.next / FLOAT, at.next / FLOAT + nextRows.length * V),
      targetLogprobs: f32.subarray(at.scores / FLOAT, at.scores / FLOAT + scoreRows.length),
      newKv: req.fetchNewKv ? f32.subarray(at.newKv / FLOAT, at.newKv / FLOAT + N * kvWidth) : undefined,
      layers: NO_LAYERS,
    };
  }

  /** Offsets of buffers at least `sizes` floats long (a new layout forgets the mirror). */
  private ensureLayout(sizes: Record<BufferName, number>): Record<BufferName, number> {
    const current = this.layout;
    let fits = current !== null;
    for (let i = 0; fits && i < BUFFERS.length; i++) fits = sizes[BUFFERS[i]] <= current!.sizes[BUFFERS[i]];
    if (fits) return current!.at;
    // room to grow by half again, so that a decode of n tokens relays O(log n) times
    const room = {} as Record<BufferName, number>;
    for (const b of BUFFERS) room[b] = Math.max(sizes[b], Math.ceil((current?.sizes[b] ?? 0) * 1.5));
    const at = {} as Record<BufferName, number>;
    let end = this.heapEnd;
    for (const b of BUFFERS) {
      at[b] = end;
      end = align(end + room[b] * FLOAT);
    }
    const memory = this.kernel.memory;
    if (end > memory.buffer.byteLength) {
      growTo(memory, end);
      this.f32 = new Float32Array(memory.buffer);
      this.i32 = new Int32Array(memory.buffer);
    }
    this.layout = { sizes: room, at, end };
    this.mirroredCache = null;
    return at;
  }

  /** Brings the kernel's copy of `cache` (per layer keys then values) up to each row's filled columns. */
  private syncMirror(cache: KvCache, offset: number): void {
    const f32 = this.f32;
    const base = offset / FLOAT;
    const layers = cache.layers;
    const block = layers.length ? layers[0].k.length : 0;
    const mirrored = this.mirroredLengths;
    if (this.mirroredCache !== cache || this.mirroredRevision !== cache.revision || mirrored.length !== cache.batch) {
      for (let l = 0; l < layers.length; l++) {
        f32.set(layers[l].k, base + 2 * l * block);
        f32.set(layers[l].v, base + (2 * l + 1) * block);
      }
      mirrored.length = 0;
      for (let b = 0; b < cache.batch; b++) mirrored.push(cache.lengthOf(b));
    } else {
      // columns appended since the last step: per row, Hkv short runs per layer and kind (a
      // column the kernel wrote that was not appended is past the row's length: never read, and
      // whatever is appended there later is copied then)
      const { numKvHeads: Hkv, headDim: hd } = this.cfg;
      const stride = cache.capacity * hd;
      for (let b = 0; b < cache.batch; b++) {
        const to = cache.lengthOf(b);
        const from = Math.min(mirrored[b], to);
        mirrored[b] = to;
        if (from === to) continue;
        for (let l = 0; l < layers.length; l++)
          for (let kind = 0; kind < 2; kind++) {
            const src = kind === 0 ? layers[l].k : layers[l].v;
            const dst = base + (2 * l + kind) * block;
            for (let h = 0; h < Hkv; h++) {
              const run = (b * Hkv + h) * stride;
              for (let i = run + from * hd; i < run + to * hd; i++) f32[dst + i] = src[i];
            }
          }
      }
    }
    this.mirroredCache = cache;
    this.mirroredRevision = cache.revision;
  }
}

/** the kernel returns no hidden states (handles() sends those steps to onnxruntime) */
const NO_LAYERS: ReadonlyMap<number, Float32Array> = new Map();

const align = (bytes: number) => Math.ceil(bytes / 16) * 16;

function unused(): never {
  throw new AlignkitError('internal', 'the WebAssembly decoder reads weights, not graph values');
}
