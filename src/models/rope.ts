import type { Value } from '../engine/graph.ts';
import type { Ops } from '../engine/ops.ts';

/**
 * RoPE scaling as HF's config.json `rope_scaling` names it. Each changes the inverse
 * frequencies once, for all positions (types whose frequencies depend on the sequence length,
 * `dynamic` and `longrope`, are refused when the config is read).
 */
export type RopeScaling =
  | { type: 'linear'; factor: number }
  | { type: 'llama3'; factor: number; lowFreqFactor: number; highFreqFactor: number; originalMaxPositions: number }
  | {
      type: 'yarn';
      factor: number;
      originalMaxPositions: number;
      betaFast: number;
      betaSlow: number;
      /** cos/sin multiplier; null = from factor (and mscale / mscale_all_dim) as the YaRN paper */
      attentionFactor: number | null;
      mscale: number | null;
      mscaleAllDim: number | null;
      /** round the correction range to whole dimensions (true in the paper's code) */
      truncate: boolean;
    };

/** The rotary embedding of one layer: its base and scaling. */
export interface RopeSpec {
  theta: number;
  scaling: RopeScaling | null;
}

/** θ_i = theta^(−2i/d) for i < d/2, then rescaled as the scaling type says. Float64. */
export function inverseFrequencies(headDim: number, rope: RopeSpec): Float64Array {
  const half = headDim / 2;
  const base = Float64Array.from({ length: half }, (_, i) => Math.pow(rope.theta, (-2 * i) / headDim));
  const s = rope.scaling;
  if (!s) return base;
  if (s.type === 'linear') return base.map((f) => f / s.factor);
  if (s.type === 'llama3') {
    // Llama 3.1: long wavelengths divided by factor, short ones kept, a smooth blend between
    const lowWavelen = s.originalMaxPositions / s.lowFreqFactor;
    const highWavelen = s.originalMaxPositions / s.highFreqFactor;
    return base.map((f) => {
      const wavelen = (2 * Math.PI) / f;
      if (wavelen < highWavelen) return f;
      if (wavelen > lowWavelen) return f / s.factor;
      const smooth = (s.originalMaxPositions / wavelen - s.lowFreqFactor) / (s.highFreqFactor - s.lowFreqFactor);
      return (1 - smooth) * (f / s.factor) + smooth * f;
    });
  }
  // YaRN: interpolate (divide by factor) the dimensions that rotate less than beta_slow times over
  // the original context, keep those that rotate more than beta_fast times, ramp linearly between
  const correctionDim = (rotations: number) =>
    (headDim * Math.log(s.originalMaxPositions / (rotations * 2 * Math.PI))) / (2 * Math.log(rope.theta));
  let low = correctionDim(s.betaFast);
  let high = correctionDim(s.betaSlow);
  if (s.truncate) {
    low = Math.floor(low);
    high = Math.ceil(high);
  }
  low = Math.max(low, 0);
  high = Math.min(high, headDim - 1);
  if (low === high) high += 0.001;
  return base.map((f, i) => {
    const ramp = Math.min(1, Math.max(0, (i - low) / (high - low)));
    const extrapolation = 1 - ramp;
    return (f / s.factor) * (1 - extrapolation) + f * extrapolation;
  });
}

/** What cos and sin are multiplied by (YaRN's attention temperature; 1 otherwise). */
export function ropeAttentionFactor(rope: RopeSpec): number {
  const s = rope.scaling;
  if (s?.type !== 'yarn') return 1;
  if (s.attentionFactor !== null) return s.attentionFactor;
  const mscale = (scale: number, m = 1) => (scale <= 1 ? 1 : 0.1 * m * Math.log(scale) + 1);
  if (s.mscale && s.mscaleAllDim) return mscale(s.factor, s.mscale) / mscale(s.factor, s.mscaleAllDim);
  return mscale(s.factor);
}

/**
 * cos/sin tables in HF's half-rotation layout: [maxPositions, headDim] with each half repeated
 * (`full`), or [maxPositions, headDim/2] as ONNX RotaryEmbedding takes them (`half`).
 */
export function ropeTables(
  maxPositions: number,
  headDim: number,
  rope: RopeSpec,
  width: 'full' | 'half' = 'full',
): { cos: Float32Array; sin: Float32Array } {
  const half = headDim / 2;
  const stride = width === 'full' ? headDim : half;
  const frequencies = inverseFrequencies(headDim, rope);
  const factor = ropeAttentionFactor(rope);
  const cos = new Float32Array(maxPositions * stride);
  const sin = new Float32Array(maxPositions * stride);
  for (let p = 0; p < maxPositions; p++) {
    for (let i = 0; i < half; i++) {
      const angle = p * frequencies[i];
      const c = Math.cos(angle) * factor,
        s = Math.sin(angle) * factor;
      cos[p * stride + i] = c;
      sin[p * stride + i] = s;
      if (width === 'full') {
        cos[p * stride + i + half] = c;
        sin[p * stride + i + half] = s;
      }
    }
  }
  return { cos, sin };
}

/** rotate_half as a fixed matrix R so that rotate_half(x) = x · R: [x1, x2] → [−x2, x1]. */
export function rotateHalfMatrix(headDim: number): Float32Array {
  const half = headDim / 2;
  const r = new Float32Array(headDim * headDim);
  for (let i = 0; i < half; i++) {
    r[(i + half) * headDim + i] = -1; // out[i] = -x[i+half]
    r[i * headDim + (i + half)] = 1; // out[i+half] = x[i]
  }
  return r;
}

/** Applies RoPE to x [B, heads, T, hd] given gathered cos/sin [B, 1, T, hd]. */
export function applyRope(o: Ops, x: Value, cos: Value, sin: Value, rotate: Value): Value {
  return o.add(o.mul(x, cos), o.mul(o.matmul(x, rotate), sin));
}
