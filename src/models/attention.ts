import type { Value } from '../engine/graph.ts';
import type { Ops } from '../engine/ops.ts';

export interface AttentionInputs {
  /** [B, H, T, hd] */
  q: Value;
  /** [B, Hkv, T, hd] */
  k: Value;
  v: Value;
  /** additive bias (0 = attend, large negative = masked): [B, 1, G·T, T] from groupedBias() */
  bias: Value;
  numHeads: number;
  numKvHeads: number;
  headDim: number;
  /** multiplies q·k; default 1/√headDim */
  scale?: number;
  /** soft-cap c of the scaled logits, c·tanh(x/c), applied before the bias (Gemma 2) */
  softcap?: number | null;
}

/**
 * Attention of one layer from its projected q, k, v [B, T, heads·hd]: the output [B, T, H·hd],
 * and with a cache the new tokens' keys (after RoPE) and values [B, T, Hkv·hd] to append to it.
 */
export type SelfAttention = (
  q: Value,
  k: Value,
  v: Value,
  layer: number,
) => { out: Value; newKv?: { k: Value; v: Value } };

/**
 * Causal (grouped-query) attention composed of standard, differentiable ops (training graphs).
 * Query heads of one KV group are folded into the row dimension ([B, Hkv, G·T, hd]) so KV heads
 * are never repeated in memory. Returns the attention output [B, T, H·hd].
 */
export function attention(o: Ops, a: AttentionInputs): Value {
  const groups = a.numHeads / a.numKvHeads;
  const qGrouped = groups === 1 ? a.q : o.reshape(a.q, [0, a.numKvHeads, -1, a.headDim]);
  let scores = o.mul(o.matmul(qGrouped, o.transpose(a.k, [0, 1, 3, 2])), o.scalar(a.scale ?? 1 / Math.sqrt(a.headDim)));
  if (a.softcap) scores = softcap(o, scores, a.softcap);
  const probs = o.softmax(o.add(scores, a.bias), -1);
  const ctx = o.matmul(probs, a.v); // [B, Hkv, G·T, hd]
  const perHead = groups === 1 ? ctx : o.reshape(ctx, [0, a.numHeads, -1, a.headDim]);
  return o.reshape(o.transpose(perHead, [0, 2, 1, 3]), [0, 0, a.numHeads * a.headDim]);
}

/** Repeats a [B, 1, T, S] bias for the G query heads folded into each KV group's rows. */
export function groupedBias(o: Ops, bias: Value, numHeads: number, numKvHeads: number): Value {
  const groups = numHeads / numKvHeads;
  return groups === 1 ? bias : o.concat(Array(groups).fill(bias), 2);
}

/**
 * A sliding window as an additive bias [B, 1, T, T] from absolute positions [B, T]: a
 * query at position p sees the keys at p − window + 1 … p. For graphs whose callers build the
 * causal bias without knowing the model (training batches).
 */
export function slidingWindowBias(o: Ops, positions: Value, window: number): Value {
  const distance = o.sub(o.unsqueeze(positions, [2]), o.unsqueeze(positions, [1]));
  const outside = o.greater(distance, o.scalar(window - 1, 'int64'));
  return o.unsqueeze(o.where(outside, o.scalar(-1e9), o.scalar(0)), [1]);
}

/** c·tanh(x/c): Gemma 2's soft-capping of attention and LM-head logits. */
export function softcap(o: Ops, x: Value, cap: number): Value {
  return o.mul(o.tanh(o.mul(x, o.scalar(1 / cap))), o.scalar(cap));
}
