import type { Value } from '../engine/graph.ts';

/**
 * How a model graph gets its weights. Inference graphs embed them as initializers (prepacked by
 * onnxruntime); training graphs take them as inputs. Names are HF tensor names.
 */
export interface ParameterSource {
  /** a tensor as stored, e.g. a norm weight or an embedding matrix [rows, cols] */
  tensor(name: string): Value;
  /** an nn.Linear weight stored [out, in], returned as [in, out] ready for x · W */
  linear(name: string): Value;
  /** true when the checkpoint has this tensor */
  has(name: string): boolean;
}
