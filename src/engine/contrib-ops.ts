/**
 * Builders for onnxruntime's `com.microsoft` contrib kernels (CPU provider), with shape
 * inference like ops.ts. They fuse what the standard-domain graph spells out node by node —
 * attention over a KV cache, RoPE, residual-add + RMSNorm, weight-only quantized matmuls — and
 * have no gradient rules: inference graphs only (autodiff refuses them).
 *
 * Semantics are onnxruntime's (docs/ContribOperators.md and the CPU kernels of 1.30), each
 * checked against plain-JS math in test/engine-contrib-ops.test.ts.
 */
import { CONTRIB_DOMAIN, type Graph, type Shape, type Value } from './graph.ts';
import type { AttrValue } from './onnx-proto.ts';
import { AlignkitError } from '../errors.ts';

const int = (value: number): AttrValue => ({ kind: 'int', value });
const float = (value: number): AttrValue => ({ kind: 'float', value });

export interface GroupQueryAttentionInputs {
  /** [B, S, H·hd], or packed q|k|v [B, S, (H + 2·Hkv)·hd] with `key`/`value` left out */
  query: Value;
  /** [B, S, Hkv·hd] (absent when `query` is packed) */
  key?: Value;
  value?: Value;
  /**
   * [B, Hkv, C, hd], right-padded: row b's first seqlensK[b] + 1 − S columns hold its past. The
   * same memory may be handed as the present output (see session.ts `into`); the kernel then
   * writes only the new tokens' columns instead of copying the past into a fresh present.
   */
  pastKey: Value;
  pastValue: Value;
  /** int32 [B]: each row's total length (past + new) − 1 */
  seqlensK: Value;
  /** int32 scalar: the longest row's total length */
  totalSequenceLength: Value;
  /** RoPE tables [maxPositions, rotaryDim/2] (with `rotary`); head size must be a multiple of 16 */
  cos?: Value;
  sin?: Value;
  /** int64 [B, S]: positions for the in-kernel RoPE (default: each row's past length + s) */
  positionIds?: Value;
  /**
   * additive bias [B or 1, H or 1, S, total] (total = `totalSequenceLength`, not the capacity):
   * masks holes the per-row lengths cannot express
   */
  attentionBias?: Value;
}

export interface GroupQueryAttentionOptions {
  numHeads: number;
  numKvHeads: number;
  /** score scale (default 1/√hd) */
  scale?: number;
  /** Gemma-2 style logit soft-capping: scores → c·tanh(scores / c), before the mask */
  softcap?: number;
  /**
   * Mistral's sliding window W as Hugging Face defines it: a query at p sees keys p − W + 1 … p.
   * onnxruntime 1.30's `local_window_size` means the same (measured; older kernels kept one key
   * more).
   */
  slidingWindow?: number;
  /** rotate q and k in the kernel with `cos`/`sin` (halves, or interleaved pairs) */
  rotary?: 'halves' | 'interleaved';
}

/** The contrib kernels the engine builds, as onnxruntime names them. */
export const CONTRIB_KERNELS = [
  'GroupQueryAttention',
  'RotaryEmbedding',
  'SkipSimplifiedLayerNormalization',
  'MatMulNBits',
  'FastGelu',
  'QuickGelu',
] as const;
export type ContribKernel = (typeof CONTRIB_KERNELS)[number];

export class ContribOps {
  constructor(readonly g: Graph) {}

  private contrib(
    op: ContribKernel,
    inputs: readonly (Value | undefined)[],
    attrs: Record<string, AttrValue>,
    outputs: readonly { dtype: Value['dtype']; shape: Shape }[],
  ): Value[] {
    // optional inputs in the middle are written as empty names; trailing ones are dropped
    let last = inputs.length;
    while (last > 0 && inputs[last - 1] === undefined) last--;
    const present = inputs.slice(0, last).map((v) => v ?? this.g.absent);
    return this.g.node(op, present, attrs, outputs, CONTRIB_DOMAIN);
  }

  /**
   * GroupQueryAttention: causal attention of S new tokens per row over a right-padded KV cache,
   * grouped KV heads, optional in-kernel RoPE, sliding window and soft-capping. Returns the
   * attention output [B, S, H·hd] and the present keys/values [B, Hkv, C', hd] (C' = max(C,
   * total)), which hold the past followed by the new tokens' keys (after RoPE) and values.
   * onnxruntime 1.30 restricts S > 1 with a non-empty past to a batch of one row.
   */
  groupQueryAttention(
    io: GroupQueryAttentionInputs,
    a: GroupQueryAttentionOptions,
  ): { output: Value; presentKey: Value; presentValue: Value } {
    if (a.numHeads % a.numKvHeads !== 0)
      throw new AlignkitError('internal', `GroupQueryAttention: ${a.numHeads} heads over ${a.numKvHeads} KV heads`);
    if ((io.key === undefined) !== (io.value === undefined))
      throw new AlignkitError('internal', 'GroupQueryAttention: key and value go together (or q|k|v is packed)');
    if ((io.cos === undefined) !== (a.rotary === undefined))
      throw new AlignkitError('internal', 'GroupQueryAttention: rotary needs the cos/sin tables and vice versa');
    const attrs: Record<string, AttrValue> = { num_heads: int(a.numHeads), kv_num_heads: int(a.numKvHeads) };
    if (a.scale !== undefined) attrs.scale = float(a.scale);
    if (a.softcap !== undefined) attrs.softcap = float(a.softcap);
    if (a.slidingWindow !== undefined) attrs.local_window_size = int(a.slidingWindow);
    if (a.rotary) {
      attrs.do_rotary = int(1);
      attrs.rotary_interleaved = int(a.rotary === 'interleaved' ? 1 : 0);
    }
    const [B, S] = io.query.shape;
    const hiddenQ = io.key ? io.query.shape[2] : `gqa_q${io.query.id}`;
    const cache = (past: Value) => ({
      dtype: past.dtype,
      shape: [past.shape[0], past.shape[1], `present${past.id}`, past.shape[3]],
    });
    const [output, presentKey, presentValue] = this.contrib(
      'GroupQueryAttention',
      [
        io.query,
        io.key,
        io.value,
        io.pastKey,
        io.pastValue,
        io.seqlensK,
        io.totalSequenceLength,
        io.cos,
        io.sin,
        io.positionIds,
        io.attentionBias,
      ],
      attrs,
      [{ dtype: io.query.dtype, shape: [B, S, hiddenQ] }, cache(io.pastKey), cache(io.pastValue)],
    );
    return { output, presentKey, presentValue };
  }

  /**
   * contrib RotaryEmbedding on x [B, S, heads·hd] (or [B, heads, S, hd]) at positions int64
   * [B, S], tables [maxPositions, hd/2]: halves rotated (HF) or interleaved pairs (llama2.c,
   * Meta's checkpoints). Unlike the opset-23 operator, positions come second.
   */
  rotaryEmbedding(
    x: Value,
    positions: Value,
    cos: Value,
    sin: Value,
    numHeads: number,
    layout: 'halves' | 'interleaved' = 'halves',
  ): Value {
    return this.contrib(
      'RotaryEmbedding',
      [x, positions, cos, sin],
      { num_heads: int(numHeads), interleaved: int(layout === 'interleaved' ? 1 : 0) },
      [{ dtype: x.dtype, shape: [...x.shape] }],
    )[0];
  }

  /**
   * RMSNorm (onnxruntime's SimplifiedLayerNormalization, an ONNX-domain kernel of its own) over
   * the last axis: x / √(mean(x²) + eps) · scale.
   */
  simplifiedLayerNorm(x: Value, scale: Value, eps: number): Value {
    return this.g.node('SimplifiedLayerNormalization', [x, scale], { axis: int(-1), epsilon: float(eps) }, [
      { dtype: x.dtype, shape: [...x.shape] },
    ])[0];
  }

  /**
   * The residual add and the next RMSNorm in one kernel: sum = x + skip, returns
   * { normed: RMSNorm(sum)·scale, sum } (sum is the new residual stream).
   */
  skipSimplifiedLayerNorm(x: Value, skip: Value, scale: Value, eps: number): { normed: Value; sum: Value } {
    const like = { dtype: x.dtype, shape: [...x.shape] };
    const stat = { dtype: 'float32' as const, shape: [...x.shape.slice(0, -1), 1] };
    const [normed, , , sum] = this.contrib(
      'SkipSimplifiedLayerNormalization',
      [x, skip, scale],
      { epsilon: float(eps) },
      [like, stat, stat, like],
    );
    return { normed, sum };
  }

  /**
   * x [..., K] times a weight [K, N] stored block-quantized along K (see block-quantize.ts):
   * each block of `blockSize` weights of an output column is (q − zero point)·scale.
   * `accuracy` is what the kernel computes in: 'float32' multiplies by the dequantized weights
   * (exact up to float rounding), 'int8' quantizes x to 8 bits per block first, as llama.cpp
   * does, and runs onnxruntime's integer kernels (4–400× faster on CPU, measured).
   */
  matMulNBits(x: Value, w: QuantizedWeightValues, accuracy: MatMulAccuracy = 'float32'): Value {
    const attrs = {
      K: int(w.k),
      N: int(w.n),
      bits: int(w.bits),
      block_size: int(w.blockSize),
      accuracy_level: int(ACCURACY_LEVEL[accuracy]),
    };
    return this.contrib('MatMulNBits', [x, w.data, w.scales, w.zeroPoints], attrs, [
      { dtype: x.dtype, shape: [...x.shape.slice(0, -1), w.n] },
    ])[0];
  }

  /** GELU, tanh approximation (GPT-2's gelu_new), one kernel. */
  fastGelu(x: Value): Value {
    return this.contrib('FastGelu', [x], {}, [{ dtype: x.dtype, shape: [...x.shape] }])[0];
  }

  /** x·sigmoid(alpha·x): SiLU at alpha = 1, the "quick" GELU at 1.702. */
  quickGelu(x: Value, alpha: number): Value {
    return this.contrib('QuickGelu', [x], { alpha: float(alpha) }, [{ dtype: x.dtype, shape: [...x.shape] }])[0];
  }
}

/** The arithmetic of quantized matmuls (see ContribOps.matMulNBits). */
export type MatMulAccuracy = 'float32' | 'int8';
/** onnxruntime's accuracy_level: 0 = the input type (float32), 4 = int8 */
export const ACCURACY_LEVEL: Record<MatMulAccuracy, number> = { float32: 0, int8: 4 };

/** A block-quantized weight as graph values (initializers) for matMulNBits. */
export interface QuantizedWeightValues {
  k: number;
  n: number;
  bits: 4 | 8;
  blockSize: number;
  /** uint8 [N, blocks, blockSize·bits/8] */
  data: Value;
  /** float [N·blocks] */
  scales: Value;
  /** uint8, packed like the data: [N, ⌈blocks·bits/8⌉]; absent: 2^(bits−1) for every block */
  zeroPoints?: Value;
}
