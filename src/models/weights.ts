/** A float32 tensor in memory, HF name and layout. */
export interface WeightTensor {
  shape: number[];
  data: Float32Array;
}

export type Weights = Map<string, WeightTensor>;
