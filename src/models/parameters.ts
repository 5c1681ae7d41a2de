import type { Value } from '../engine/graph.ts';
import type { Ops } from '../engine/ops.ts';

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
  /** x · Wᵀ for an nn.Linear weight, where the source runs it itself (quantized weights) */
  project?(x: Value, name: string): Value;
  /** rows `ids` of a matrix (the embedding), where the source gathers them itself (quantized weights) */
  rows?(name: string, ids: Value): Value;
  /** a frozen matrix the source holds quantized (a QLoRA base), for hand-written gradients; null otherwise */
  frozenQuantized?(name: string): FrozenQuantizedMatrix | null;
}

/** A frozen nn.Linear weight W [out, in] held quantized, multiplied without a float copy of the whole of it. */
export interface FrozenQuantizedMatrix {
  /** x [..., in] · Wᵀ → [..., out], with no gradient of its own */
  times(x: Value): Value;
  /** dy [..., out] · W → [..., in]: the gradient of `times` in x (built with `o`, a gradient's ops) */
  transposedTimes(dy: Value, o?: Ops): Value;
}

/** x · Wᵀ (+ bias) for the nn.Linear weight `name` [out, in]: quantized where the source holds it so. */
export function project(o: Ops, p: ParameterSource, x: Value, name: string, bias?: Value): Value {
  const y = p.project ? p.project(x, name) : o.matmul(x, p.linear(name));
  return bias ? o.add(y, bias) : y;
}

/** Rows `ids` of the matrix `name` (an embedding lookup). */
export function embed(o: Ops, p: ParameterSource, name: string, ids: Value): Value {
  return p.rows ? p.rows(name, ids) : o.gather(p.tensor(name), ids);
}
