/**
 * The runtime boundary's browser side: engine graphs on onnxruntime-web, with the API of
 * session.ts (onnxruntime-node). A browser bundle replaces session.ts by this module (see
 * src/playground/bundle.ts); both share onnxruntime's `InferenceSession`/`Tensor` shapes, so the
 * graphs, feeds and fetched outputs are the same and the KV cache and decode states above them
 * (src/lm/native) run unchanged.
 *
 * Execution: WebAssembly, with threads when the page is cross-origin isolated (a browser allows
 * shared memory only then), or WebGPU when asked for and the browser has an adapter.
 * `webRuntime()` says which ran. WebAssembly uses onnxruntime-web's plain build: its WebGPU-capable
 * build (JSEP) ran the embedded models' decode steps 2–4× slower on WebAssembly, so it is loaded
 * only for WebGPU.
 */
import * as ortWasm from 'onnxruntime-web/wasm';
import { AlignkitError } from '../errors.ts';
import type { Graph } from './graph.ts';

export { int64, type Feed, type Fetched, type SessionOptions, type TensorData } from './session-types.ts';
import { elementTypeOf, type Feed, type Fetched, type SessionOptions, type TensorData } from './session-types.ts';

export type WebProvider = 'wasm' | 'webgpu';

export interface WebRuntimeSettings {
  /** where ort-wasm-simd-threaded.jsep.{mjs,wasm} are served (a URL ending in /) */
  wasmPaths: string;
  /** WebAssembly threads; more than 1 only takes effect in a cross-origin isolated page */
  threads: number;
  provider: WebProvider;
}

type Ort = typeof ortWasm;
let webgpuOrt: Promise<Ort> | undefined;
const ortFor = (provider: WebProvider): Promise<Ort> =>
  provider === 'webgpu' ? (webgpuOrt ??= import('onnxruntime-web')) : Promise.resolve(ortWasm);

let settings: WebRuntimeSettings = { wasmPaths: './ort/', threads: 1, provider: 'wasm' };

/** Sets how sessions are created; call before the first model loads (onnxruntime-web reads it once). */
export function configureWebRuntime(next: Partial<WebRuntimeSettings>): void {
  settings = { ...settings, ...next };
}

/** What runs the graphs: provider and thread count as onnxruntime-web was configured. */
export function webRuntime(): { provider: WebProvider; threads: number; isolated: boolean } {
  const isolated = globalThis.crossOriginIsolated === true;
  return { provider: settings.provider, threads: isolated ? settings.threads : 1, isolated };
}

export function threadCount(): number {
  return webRuntime().threads;
}

/**
 * Runs wait their turn: onnxruntime-web refuses a second run of a session while one is going, and
 * runs of different sessions that overlap (methods that run models side by side) were seen to
 * corrupt each other's inputs ("input name cannot be empty"). WebAssembly computes on one thread
 * either way, so queueing loses no speed.
 */
let queue: Promise<unknown> = Promise.resolve();

export class GraphSession {
  private constructor(
    private readonly ort: Ort,
    private readonly session: ortWasm.InferenceSession,
    readonly name: string,
    readonly outputNames: readonly string[],
  ) {}

  static async create(graph: Graph | Uint8Array, name: string, options: SessionOptions = {}): Promise<GraphSession> {
    const bytes = graph instanceof Uint8Array ? graph : graph.toOnnx();
    options.releaseWeights?.();
    const { provider, threads } = webRuntime();
    const ort = await ortFor(provider);
    ort.env.wasm.wasmPaths = settings.wasmPaths;
    ort.env.wasm.numThreads = threads;
    try {
      const session = await ort.InferenceSession.create(bytes, {
        executionProviders: [provider],
        graphOptimizationLevel: 'all',
        enableCpuMemArena: options.memoryArena ?? true,
        enableMemPattern: options.memoryPattern ?? true,
        // as in Node (session.ts): spinning threads busy-wait between runs and starve the page's own
        extra: { session: { intra_op: { allow_spinning: '0' } } },
      });
      return new GraphSession(ort, session, name, session.outputNames);
    } catch (e) {
      throw new AlignkitError('internal', `onnxruntime-web could not load ${name}: ${messageOf(e)}`, {}, { cause: e });
    }
  }

  /**
   * Runs the graph. Outputs named in `into` are copied into the caller's buffers (onnxruntime-web
   * returns fresh tensors), which is what the Node side's bound outputs amount to.
   */
  run(
    feeds: Record<string, Feed>,
    outputs: readonly string[] = this.outputNames,
    into: Record<string, Feed> = {},
  ): Promise<Record<string, Fetched>> {
    const result = queue.then(() => this.runNow(feeds, outputs, into));
    queue = result.catch(() => undefined);
    return result;
  }

  private async runNow(
    feeds: Record<string, Feed>,
    outputs: readonly string[],
    into: Record<string, Feed>,
  ): Promise<Record<string, Fetched>> {
    const ortFeeds: Record<string, ortWasm.Tensor> = {};
    for (const [name, f] of Object.entries(feeds))
      ortFeeds[name] = new this.ort.Tensor(elementTypeOf(f.data), f.data, f.dims as number[]);
    const fetches = [...new Set([...outputs, ...Object.keys(into)])];
    let result: ortWasm.InferenceSession.ReturnType;
    try {
      result = await this.session.run(ortFeeds, fetches);
    } catch (e) {
      throw new AlignkitError(
        'internal',
        `onnxruntime-web failed running ${this.name}: ${messageOf(e)}`,
        {},
        { cause: e },
      );
    }
    const out: Record<string, Fetched> = {};
    for (const [name, t] of Object.entries(result)) {
      const data = t.data as TensorData;
      if (name in into) (into[name].data as Exclude<TensorData, BigInt64Array>).set(data as Float32Array);
      else out[name] = { dims: t.dims, data };
    }
    return out;
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}

/** onnxruntime-web throws numbers (wasm error codes) and strings as well as Errors. */
const messageOf = (e: unknown) => (e instanceof Error ? e.message : String(e));
