/**
 * Runs engine graphs on onnxruntime-node's CPU provider. One session per graph key, cached;
 * intra-op threads = cores, inter-op 1, full graph optimization. Inputs are passed as typed
 * array views (no copies).
 */
import ort from 'onnxruntime-node';
import { availableParallelism } from 'node:os';
import { AlignkitError } from '../errors.ts';
import type { Graph } from './graph.ts';

export type TensorData = Float32Array | BigInt64Array | Int32Array | Uint8Array;

export interface Feed {
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

export class GraphSession {
  private constructor(private readonly session: ort.InferenceSession, readonly name: string) {}

  static async create(graph: Graph | Uint8Array, name: string): Promise<GraphSession> {
    const bytes = graph instanceof Uint8Array ? graph : graph.toOnnx();
    const session = await ort.InferenceSession.create(bytes, {
      executionProviders: ['cpu'],
      intraOpNumThreads: threadCount(),
      interOpNumThreads: 1,
      executionMode: 'sequential',
      graphOptimizationLevel: 'all',
      enableCpuMemArena: true,
    });
    return new GraphSession(session, name);
  }

  get inputNames(): readonly string[] { return this.session.inputNames; }
  get outputNames(): readonly string[] { return this.session.outputNames; }

  async run(feeds: Record<string, Feed>, outputs?: readonly string[]): Promise<Record<string, { dims: readonly number[]; data: TensorData }>> {
    const ortFeeds: Record<string, ort.Tensor> = {};
    for (const [name, f] of Object.entries(feeds)) ortFeeds[name] = new ort.Tensor(typeOf(f.data), f.data, f.dims as number[]);
    let result: ort.InferenceSession.ReturnType;
    try {
      result = outputs ? await this.session.run(ortFeeds, outputs as string[]) : await this.session.run(ortFeeds);
    } catch (e) {
      throw new AlignkitError('internal', `onnxruntime failed running ${this.name}: ${(e as Error).message}`, {}, { cause: e });
    }
    const out: Record<string, { dims: readonly number[]; data: TensorData }> = {};
    for (const [name, t] of Object.entries(result)) out[name] = { dims: t.dims, data: t.data as TensorData };
    return out;
  }

  async release(): Promise<void> { await this.session.release(); }
}
