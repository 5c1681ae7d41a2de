/**
 * Runs engine graphs on onnxruntime-node's CPU provider: intra-op threads = cores, inter-op 1,
 * full graph optimization. Inputs are passed as typed-array views (no copies).
 *
 * Runs go straight to onnxruntime-node's native binding, synchronously. The public
 * InferenceSession.run wraps the same synchronous native call in setImmediate plus argument
 * checking, which costs ~40 µs per call — more than a whole decode step of a small model.
 * The binding is an internal of the pinned onnxruntime-node version; if it is missing, the public
 * API is used instead.
 */
import ort from 'onnxruntime-node';
import { createRequire } from 'node:module';
import { availableParallelism, tmpdir } from 'node:os';
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { AlignkitError } from '../errors.ts';
import type { Graph } from './graph.ts';
import { tensorBytes } from './onnx-proto.ts';
import { collectGarbage } from '../util/collect-garbage.ts';

export { int64, type Feed, type Fetched, type SessionOptions, type TensorData } from './session-types.ts';
import { elementTypeOf, type Feed, type Fetched, type SessionOptions, type TensorData } from './session-types.ts';

export function threadCount(): number {
  const env = Number(process.env.ALIGNKIT_THREADS);
  return Number.isInteger(env) && env > 0 ? env : availableParallelism();
}

interface NativeSession {
  run(
    feeds: Record<string, ort.Tensor>,
    fetches: Record<string, ort.Tensor | null>,
    options: object,
  ): Record<string, ort.Tensor>;
  outputMetadata: { name: string }[];
  dispose(): void;
}

function nativeBinding(): { create(model: Uint8Array | string, options: object): NativeSession } | null {
  try {
    const require = createRequire(import.meta.url);
    const { binding, initOrt } = require('onnxruntime-node/dist/binding.js');
    if (typeof binding?.InferenceSession !== 'function' || typeof initOrt !== 'function') return null;
    return {
      create(model, options) {
        initOrt();
        const s = new binding.InferenceSession();
        if (typeof model === 'string') s.loadModel(model, options);
        else s.loadModel(model.buffer, model.byteOffset, model.byteLength, options);
        return s;
      },
    };
  } catch {
    return null;
  }
}

const binding = nativeBinding();

export class GraphSession {
  private constructor(
    private readonly native: NativeSession | null,
    private readonly session: ort.InferenceSession | null,
    readonly name: string,
    readonly outputNames: readonly string[],
  ) {}

  /**
   * Creates a session. Graphs with large weights are handed to onnxruntime through a temporary
   * model file with external data, so the weights are never held as one protobuf buffer in JS;
   * `releaseWeights` runs once they are on disk (the graph's initializers are dropped then too),
   * letting the caller drop its copy before onnxruntime loads its own.
   */
  static async create(graph: Graph | Uint8Array, name: string, options: SessionOptions = {}): Promise<GraphSession> {
    const { releaseWeights } = options;
    if (!(graph instanceof Uint8Array) && graph.sessionConfig.size)
      options = { ...options, config: new Map([...graph.sessionConfig, ...(options.config ?? [])]) };
    if (graph instanceof Uint8Array || graph.initializerBytes() < EXTERNAL_DATA_THRESHOLD) {
      const bytes = graph instanceof Uint8Array ? graph : graph.toOnnx();
      releaseWeights?.();
      return GraphSession.load(bytes, name, options);
    }
    const dir = mkdtempSync(join(tmpdir(), 'alignkit-graph-'));
    try {
      const modelPath = writeWithExternalData(graph, dir);
      if (releaseWeights) {
        graph.initializers.clear();
        releaseWeights();
        collectGarbage();
      }
      return await GraphSession.load(modelPath, name, options);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  private static async load(
    model: Uint8Array | string,
    name: string,
    sessionOptions: SessionOptions,
  ): Promise<GraphSession> {
    const options = {
      executionProviders: ['cpu'],
      intraOpNumThreads: sessionOptions.threads ?? threadCount(),
      // Spinning intra-op threads busy-wait between runs; with several sessions (three models in
      // weak-to-strong search) and node's own thread on a few cores they starve each other.
      extra: { session: { intra_op: { allow_spinning: '0' }, ...sessionEntries(sessionOptions.config) } },
      interOpNumThreads: 1,
      executionMode: 'sequential',
      graphOptimizationLevel: 'all',
      enableCpuMemArena: sessionOptions.memoryArena ?? true,
      enableMemPattern: sessionOptions.memoryPattern ?? true,
    } as const;
    try {
      if (binding) {
        const native = binding.create(model, options);
        return new GraphSession(
          native,
          null,
          name,
          native.outputMetadata.map((m) => m.name),
        );
      }
      const session =
        typeof model === 'string'
          ? await ort.InferenceSession.create(model, options)
          : await ort.InferenceSession.create(model, options);
      return new GraphSession(null, session, name, session.outputNames);
    } catch (e) {
      throw new AlignkitError(
        'internal',
        `onnxruntime could not load ${name}: ${(e as Error).message}`,
        {},
        { cause: e },
      );
    }
  }

  /**
   * Runs the graph. `into` binds outputs to caller buffers: onnxruntime computes into them in
   * place (GroupQueryAttention then updates a KV cache handed as both its past input and its
   * present output without copying it). onnxruntime-node 1.30 still copies every fetched output
   * into a fresh buffer on the way back, so a bound output costs that copy; it is not returned.
   */
  async run(
    feeds: Record<string, Feed>,
    outputs: readonly string[] = this.outputNames,
    into: Record<string, Feed> = {},
  ): Promise<Record<string, Fetched>> {
    const tensor = (f: Feed) => new ort.Tensor(elementTypeOf(f.data), f.data, f.dims as number[]);
    const ortFeeds: Record<string, ort.Tensor> = {};
    for (const [name, f] of Object.entries(feeds)) ortFeeds[name] = tensor(f);
    const fetches: Record<string, ort.Tensor | null> = {};
    for (const o of outputs) fetches[o] = null;
    for (const [name, f] of Object.entries(into)) fetches[name] = tensor(f);
    let result: Record<string, ort.Tensor>;
    try {
      if (this.native) result = this.native.run(ortFeeds, fetches, {});
      else result = await this.session!.run(ortFeeds, fetches as ort.InferenceSession.FetchesType);
    } catch (e) {
      throw new AlignkitError(
        'internal',
        `onnxruntime failed running ${this.name}: ${(e as Error).message}`,
        {},
        { cause: e },
      );
    }
    const out: Record<string, Fetched> = {};
    for (const [name, t] of Object.entries(result))
      if (!(name in into)) out[name] = { dims: t.dims, data: t.data as TensorData };
    return out;
  }

  async release(): Promise<void> {
    if (this.native) this.native.dispose();
    else await this.session!.release();
  }
}

/** 'session.a.b' → { a: { b } }: onnxruntime-node flattens `extra` back into dotted keys. */
function sessionEntries(config: ReadonlyMap<string, string> | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of config ?? []) {
    const path = key.split('.');
    if (path[0] !== 'session') throw new AlignkitError('internal', `session config key ${key} is not session.*`);
    let at = out;
    for (const part of path.slice(1, -1)) at = (at[part] ??= {}) as Record<string, unknown>;
    at[path[path.length - 1]] = value;
  }
  return out;
}

const EXTERNAL_DATA_THRESHOLD = 64 * 1024 * 1024;

function writeAll(fd: number, bytes: Uint8Array): void {
  for (let done = 0; done < bytes.length;) done += writeSync(fd, bytes, done, bytes.length - done);
}
const PAGE = 4096;

/** Writes model.onnx + weights.bin (initializers ≥ 4 KiB, page-aligned so onnxruntime maps them instead of copying) and returns the model path. */
function writeWithExternalData(graph: Graph, dir: string): string {
  const fd = openSync(join(dir, 'weights.bin'), 'w');
  let offset = 0;
  const pad = new Uint8Array(PAGE);
  try {
    const bytes = graph.toOnnx((t) => {
      if (t.data.byteLength < 4096) return undefined;
      const aligned = Math.ceil(offset / PAGE) * PAGE;
      if (aligned > offset) writeSync(fd, pad, 0, aligned - offset);
      writeAll(fd, tensorBytes(t));
      offset = aligned + t.data.byteLength;
      return { location: 'weights.bin', offset: aligned, length: t.data.byteLength };
    });
    writeFileSync(join(dir, 'model.onnx'), bytes);
  } finally {
    closeSync(fd);
  }
  return join(dir, 'model.onnx');
}
