import type { QuantizedMatrix } from '../engine/block-quantize.ts';

/** A float32 tensor in memory, HF name and layout. */
export interface WeightTensor {
  shape: number[];
  data: Float32Array;
}

export type Weights = Map<string, WeightTensor>;

/**
 * Weights held as block codes (inference graphs only), HF name and layout: see
 * engine/block-quantize.ts. Their codes may be made only when the graph is written (streamed
 * from the file they were read from).
 */
export type QuantizedWeights = Map<string, QuantizedMatrix>;
