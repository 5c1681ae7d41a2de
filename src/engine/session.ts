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
import { availableParallelism } from 'node:os';
import { AlignkitError } from '../errors.ts';
import type { Graph } from './graph.ts';

export type TensorData = Float32Array | BigInt64Array | Int32Array | Uint8Array;

export interface Feed {
  dims: readonly number[];
  data: TensorData;
}

export interface Fetched {
  dims: readonly number[];
  data: TensorData;
}

export function int64(values: ArrayLike<number>): BigInt64Array {
  const out = new BigInt64Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = BigInt(values[i]);
  return out;
}

export function threadCount(): number {
  const env = Number(process.env.ALIGNKIT_THREADS);
  return Number.isInteger(env) && env > 0 ? env : availableParallelism();
}

const typeOf = (data: TensorData): 'float32' | 'int64' | 'int32' | 'bool' =>
  data instanceof Float32Array ? 'float32' : data instanceof BigInt64Array ? 'int64' : data instanceof Int32Array ? 'int32' : 'bool';

interface NativeSession {
  run(feeds: Record<string, ort.Tensor>, fetches: Record<string, null>, options: object): Record<string, ort.Tensor>;
  outputMetadata: { name: string }[];
  dispose(): void;
}

function nativeBinding(): { create(bytes: Uint8Array, options: object): NativeSession } | null {
  try {
    const require = createRequire(import.meta.url);
    const { binding, initOrt } = require('onnxruntime-node/dist/binding.js');
    if (typeof binding?.InferenceSession !== 'function' || typeof initOrt !== 'function') return null;
    return {
      create(bytes, options) {
        initOrt();
        const s = new binding.InferenceSession();
        s.loadModel(bytes.buffer, bytes.byteOffset, bytes.byteLength, options);
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

  static async create(graph: Graph | Uint8Array, name: string): Promise<GraphSession> {
    const bytes = graph instanceof Uint8Array ? graph : graph.toOnnx();
    const options = {
      executionProviders: ['cpu'],
      intraOpNumThreads: threadCount(),
      interOpNumThreads: 1,
      executionMode: 'sequential',
      graphOptimizationLevel: 'all',
      enableCpuMemArena: true,
    } as const;
    try {
      if (binding) {
        const native = binding.create(bytes, options);
        return new GraphSession(native, null, name, native.outputMetadata.map((m) => m.name));
      }
      const session = await ort.InferenceSession.create(bytes, options);
      return new GraphSession(null, session, name, session.outputNames);
    } catch (e) {
      throw new AlignkitError('internal', `onnxruntime could not load ${name}: ${(e as Error).message}`, {}, { cause: e });
    }
  }

  async run(feeds: Record<string, Feed>, outputs: readonly string[] = this.outputNames): Promise<Record<string, Fetched>> {
    const ortFeeds: Record<string, ort.Tensor> = {};
    for (const [name, f] of Object.entries(feeds)) ortFeeds[name] = new ort.Tensor(typeOf(f.data), f.data, f.dims as number[]);
    let result: Record<string, ort.Tensor>;
    try {
      if (this.native) {
        const fetches: Record<string, null> = {};
        for (const o of outputs) fetches[o] = null;
        result = this.native.run(ortFeeds, fetches, {});
      } else {
        result = await this.session!.run(ortFeeds, outputs as string[]);
      }
    } catch (e) {
      throw new AlignkitError('internal', `onnxruntime failed running ${this.name}: ${(e as Error).message}`, {}, { cause: e });
    }
    const out: Record<string, Fetched> = {};
    for (const [name, t] of Object.entries(result)) out[name] = { dims: t.dims, data: t.data as TensorData };
    return out;
  }

  async release(): Promise<void> {
    if (this.native) this.native.dispose();
    else await this.session!.release();
  }
}
