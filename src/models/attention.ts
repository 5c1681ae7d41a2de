import type { Value } from '../engine/graph.ts';
import type { Ops } from '../engine/ops.ts';

export interface AttentionInputs {
  /** [B, H, T, hd] */
  q: Value;
  /** [B, Hkv, T, hd] for the new tokens */
  k: Value;
  v: Value;
  /** cached [B, Hkv, P, hd], or undefined when there is no cache (training, plain prefill) */
  pastK?: Value;
  pastV?: Value;
  /** additive bias (0 = attend, large negative = masked), S = P + T: [B, 1, G·T, S] from groupedBias() */
  bias: Value;
  numHeads: number;
  numKvHeads: number;
  headDim: number;
}

/**
 * Causal (grouped-query) attention over cache + new tokens. Query heads of one KV group are
 * folded into the row dimension ([B, Hkv, G·T, hd]) so KV heads are never repeated in memory.
 * Returns the attention output [B, T, H·hd] and the full keys/values (the new cache).
 */
export function attention(o: Ops, a: AttentionInputs): { out: Value; keys: Value; values: Value } {
  const groups = a.numHeads / a.numKvHeads;
  const keys = a.pastK ? o.concat([a.pastK, a.k], 2) : a.k;
  const values = a.pastV ? o.concat([a.pastV, a.v], 2) : a.v;
  const qGrouped = groups === 1 ? a.q : o.reshape(a.q, [0, a.numKvHeads, -1, a.headDim]);
  const scores = o.mul(o.matmul(qGrouped, o.transpose(keys, [0, 1, 3, 2])), o.scalar(1 / Math.sqrt(a.headDim)));
  const probs = o.softmax(o.add(scores, a.bias), -1);
  const ctx = o.matmul(probs, values); // [B, Hkv, G·T, hd]
  const perHead = groups === 1 ? ctx : o.reshape(ctx, [0, a.numHeads, -1, a.headDim]);
  const out = o.reshape(o.transpose(perHead, [0, 2, 1, 3]), [0, 0, a.numHeads * a.headDim]);
  return { out, keys, values };
}

/** Repeats a [B, 1, T, S] bias for the G query heads folded into each KV group's rows. */
export function groupedBias(o: Ops, bias: Value, numHeads: number, numKvHeads: number): Value {
  const groups = numHeads / numKvHeads;
  return groups === 1 ? bias : o.concat(Array(groups).fill(bias), 2);
}
