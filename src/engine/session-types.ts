/**
 * What both sides of the runtime boundary share: session.ts (onnxruntime-node) and session-web.ts
 * (onnxruntime-web) take and return the same feeds, outputs and options.
 */
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

/** Uint8Array data is fed as bool: the engine's graphs take no uint8 inputs (quantized weights are initializers). */
export const elementTypeOf = (data: TensorData): 'float32' | 'int64' | 'int32' | 'bool' =>
  data instanceof Float32Array
    ? 'float32'
    : data instanceof BigInt64Array
      ? 'int64'
      : data instanceof Int32Array
        ? 'int32'
        : 'bool';

export interface SessionOptions {
  /** intra-op threads (default: the machine's cores, or ALIGNKIT_THREADS) */
  threads?: number;
  /** called once the weights are serialized, so the caller can drop its copy first */
  releaseWeights?: () => void;
  /**
   * onnxruntime's CPU memory arena (default on). Training graphs turn it off: their activations
   * are freed back to the system after each run instead of held (and grown) by the arena, which
   * measured 4.2 GB instead of 5.7 GB peak for a GPT-2-small training step at the same speed.
   */
  memoryArena?: boolean;
  /**
   * onnxruntime's memory pattern (default on): after a run it plans one block for the next runs
   * of the same shapes. Training graphs turn it off: with the arena on, the planned block is
   * fresh memory on top of what the first run's arena already holds (a d-256 training step's
   * peak grew by 150 MB on the second run), while the arena alone reuses its chunks.
   */
  memoryPattern?: boolean;
  /** onnxruntime session config entries ('session.…' keys), e.g. from Graph.sessionConfig */
  config?: ReadonlyMap<string, string>;
}
