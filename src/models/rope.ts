import type { Value } from '../engine/graph.ts';
import type { Ops } from '../engine/ops.ts';

/**
 * cos/sin tables in HF's half-rotation layout: [maxPositions, headDim] with each half repeated
 * (`full`), or [maxPositions, headDim/2] as ONNX RotaryEmbedding takes them (`half`).
 */
export function ropeTables(
  maxPositions: number,
  headDim: number,
  theta: number,
  width: 'full' | 'half' = 'full',
): { cos: Float32Array; sin: Float32Array } {
  const half = headDim / 2;
  const stride = width === 'full' ? headDim : half;
  const cos = new Float32Array(maxPositions * stride);
  const sin = new Float32Array(maxPositions * stride);
  for (let p = 0; p < maxPositions; p++) {
    for (let i = 0; i < half; i++) {
      const angle = p / Math.pow(theta, (2 * i) / headDim);
      const c = Math.cos(angle),
        s = Math.sin(angle);
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
