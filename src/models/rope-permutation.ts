/**
 * llama2.c (and Meta's original checkpoints) apply RoPE to interleaved pairs (x[2i], x[2i+1]);
 * HF rotates halves (x[i], x[i + d/2]). Permuting the output rows of q_proj / k_proj within each
 * head turns one convention into the other, as HF's convert_llama_weights_to_hf.py does:
 *   w.view(n_heads, head_dim / 2, 2, cols).transpose(1, 2).reshape(rows, cols)
 * Row (h, 2i + j) moves to row (h, j * head_dim/2 + i).
 */
import { inputError } from '../errors.ts';

function checkLayout(data: Float32Array | Uint8Array, numHeads: number, cols: number): number {
  const rows = data.length / cols;
  if (!Number.isInteger(rows) || rows % numHeads !== 0 || (rows / numHeads) % 2 !== 0) {
    throw inputError(`cannot permute ${data.length} values as [${numHeads} heads × even head size, ${cols}] rows`);
  }
  return rows / numHeads;
}

function moveRows<T extends Float32Array | Uint8Array>(data: T, numHeads: number, cols: number, toHalves: boolean): T {
  const headDim = checkLayout(data, numHeads, cols);
  const half = headDim / 2;
  const out = (data instanceof Float32Array ? new Float32Array(data.length) : new Uint8Array(data.length)) as T;
  for (let h = 0; h < numHeads; h++) {
    for (let i = 0; i < half; i++) {
      for (let j = 0; j < 2; j++) {
        const interleaved = (h * headDim + 2 * i + j) * cols;
        const halves = (h * headDim + j * half + i) * cols;
        const [from, to] = toHalves ? [interleaved, halves] : [halves, interleaved];
        out.set(data.subarray(from, from + cols), to);
      }
    }
  }
  return out;
}

/** Interleaved-pair layout (llama2.c, Meta) -> HF rotate-half layout. Works for weights ([rows, cols]) and biases (cols = 1). */
export function permuteRope(data: Float32Array, numHeads: number, cols: number): Float32Array {
  return moveRows(data, numHeads, cols, true);
}

/** HF rotate-half layout -> interleaved-pair layout; the inverse of permuteRope. */
export function unpermuteRope(data: Float32Array, numHeads: number, cols: number): Float32Array {
  return moveRows(data, numHeads, cols, false);
}

/** permuteRope on rows of `rowBytes` stored bytes (quantized rows move whole, codes and scales together). */
export function permuteRopeRows(data: Uint8Array, numHeads: number, rowBytes: number): Uint8Array {
  return moveRows(data, numHeads, rowBytes, true);
}
