/**
 * GGUF quantized tensors -> the engine's block-quantized weights (engine/block-quantize.ts: per
 * row of a [rows, cols] weight, blocks of 32 values along the row, x = (q − zeroPoint)·scale with
 * an unsigned q), which onnxruntime's quantized matmuls consume without a float32 copy.
 *
 * Q8_0 and Q4_0 are exactly this shape (one float16 scale per 32 values, a fixed zero point of
 * 128 / 8, the MatMulNBits default): their codes are carried over bit for bit. The other types
 * are not (Q4_1/Q5_1 add a per-block min, K-quants nest scales in 256-value super-blocks, Q5/Q6
 * have bit widths onnxruntime has no kernel for): they are decoded and re-quantized to the
 * nearest engine format, 4-bit blocks for the 4-bit types and 8-bit blocks (finer than the
 * source) for the 5- and 6-bit ones, both with a zero point per block.
 */
import { formatError } from '../../errors.ts';
import { float16BitsToNumber } from '../../util/half-precision.ts';
import { quantizeBlockwise, type BlockQuantized } from '../../engine/block-quantize.ts';
import { dequantize } from './dequantize.ts';
import { ggmlType, type GgmlTypeName } from './ggml-types.ts';

export const BLOCK_SIZE = 32;

export type QuantizedGgmlType = Exclude<GgmlTypeName, 'F32' | 'F16' | 'BF16'>;
export const isQuantizedType = (type: GgmlTypeName): type is QuantizedGgmlType =>
  type !== 'F32' && type !== 'F16' && type !== 'BF16';

/** The engine format each GGUF type is held in: `exact` types keep their codes, the others are re-quantized. */
export const ENGINE_FORMAT: Record<QuantizedGgmlType, { bits: 4 | 8; exact: boolean }> = {
  Q8_0: { bits: 8, exact: true },
  Q4_0: { bits: 4, exact: true },
  Q4_1: { bits: 4, exact: false },
  Q4_K: { bits: 4, exact: false },
  Q5_0: { bits: 8, exact: false },
  Q5_1: { bits: 8, exact: false },
  Q5_K: { bits: 8, exact: false },
  Q6_K: { bits: 8, exact: false },
};

/** "Q4_K → 4-bit blocks of 32 with zero points (re-quantized)" — for load summaries. */
export function describeEngineFormat(type: QuantizedGgmlType): string {
  const { bits, exact } = ENGINE_FORMAT[type];
  return exact
    ? `${type} as ${bits}-bit blocks (exact)`
    : `${type} re-quantized to ${bits}-bit blocks of ${BLOCK_SIZE} with zero points`;
}

/** A [rows, cols] quantized tensor's bytes (`raw`, as stored in the file) as engine blocks. */
export function toBlockQuantized(type: QuantizedGgmlType, raw: Uint8Array, shape: [number, number]): BlockQuantized {
  const [rows, cols] = shape;
  const { blockSize, blockBytes } = ggmlType(type);
  const numBlocks = (rows * cols) / blockSize;
  if (cols % blockSize !== 0 || raw.length !== numBlocks * blockBytes)
    throw formatError(`a [${rows}, ${cols}] ${type} tensor needs ${numBlocks * blockBytes} bytes, got ${raw.length}`);
  if (type === 'Q8_0' || type === 'Q4_0') return symmetricBlocks(type, raw, rows, cols);
  return quantizeBlockwise(dequantize(type, raw, rows * cols), rows, cols, ENGINE_FORMAT[type].bits, BLOCK_SIZE);
}

/** Q8_0 / Q4_0 carried over: scales widened exactly, codes made unsigned (zero point left to the default). */
function symmetricBlocks(type: 'Q8_0' | 'Q4_0', raw: Uint8Array, rows: number, cols: number): BlockQuantized {
  const { blockBytes } = ggmlType(type);
  const numBlocks = (rows * cols) / BLOCK_SIZE;
  const bits = type === 'Q8_0' ? 8 : 4;
  const blob = (BLOCK_SIZE * bits) / 8;
  const data = new Uint8Array(numBlocks * blob);
  const scales = new Float32Array(numBlocks);
  for (let b = 0; b < numBlocks; b++) {
    const at = b * blockBytes;
    scales[b] = float16BitsToNumber(raw[at] | (raw[at + 1] << 8));
    const o = b * blob;
    const q = at + 2;
    if (type === 'Q8_0') {
      for (let j = 0; j < 32; j++) data[o + j] = raw[q + j] ^ 0x80; // int8 q -> q + 128
    } else {
      // ggml: byte j holds value j (low nibble) and value j + 16 (high); the engine: byte i holds values 2i, 2i + 1
      for (let i = 0; i < 8; i++) {
        data[o + i] = (raw[q + 2 * i] & 0x0f) | ((raw[q + 2 * i + 1] & 0x0f) << 4);
        data[o + 8 + i] = (raw[q + 2 * i] >> 4) | (raw[q + 2 * i + 1] & 0xf0);
      }
    }
  }
  return { n: rows, k: cols, bits, blockSize: BLOCK_SIZE, data, scales };
}
