import type { BlockQuantized } from '../engine/block-quantize.ts';

/** A float32 tensor in memory, HF name and layout. */
export interface WeightTensor {
  shape: number[];
  data: Float32Array;
}

export type Weights = Map<string, WeightTensor>;

/** Weights held as block codes (inference graphs only), HF name and layout: see engine/block-quantize.ts. */
export type QuantizedWeights = Map<string, BlockQuantized>;
