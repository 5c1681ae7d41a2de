/**
 * The block-quantized weights the engine's weight-only quantized matmuls will consume (onnxruntime's
 * `MatMulNBits` / `DequantizeLinear` with `block_size`): per row of a [rows, cols] weight, blocks
 * of 32 values along the row, each x = (q − zeroPoint) · scale with an unsigned q.
 *
 * GGUF's Q8_0 and Q4_0 are exactly this shape (one float16 scale per 32 values, a fixed zero
 * point), so a tensor of either maps onto it without loss and without re-reading the file.
 * Other GGUF types are not blocks of this form and are widened to float32 at load.
 */
import { formatError } from '../../errors.ts';
import { float16BitsToNumber } from '../../util/half-precision.ts';
import { ggmlType } from './ggml-types.ts';

export const BLOCK_SIZE = 32;

export interface QuantizedBlocks {
  bits: 4 | 8;
  blockSize: typeof BLOCK_SIZE;
  /** [rows, cols], HF layout (rows = output features) */
  shape: [number, number];
  /** one unsigned quant per value, row-major: 0…15 for 4 bits, 0…255 for 8 */
  quants: Uint8Array;
  /** one scale per block, row-major over [rows, cols / 32] (the float16 scale, widened exactly) */
  scales: Float32Array;
  /** the same zero point for every block: 8 for Q4_0, 128 for Q8_0 */
  zeroPoint: number;
}

export type BlockType = 'Q8_0' | 'Q4_0';
export const isBlockType = (type: string): type is BlockType => type === 'Q8_0' || type === 'Q4_0';

/** Splits a Q8_0 / Q4_0 tensor's bytes (`raw`, as stored in the file) into quants and scales. */
export function toQuantizedBlocks(type: BlockType, raw: Uint8Array, shape: [number, number]): QuantizedBlocks {
  const [rows, cols] = shape;
  const { blockBytes } = ggmlType(type);
  const numBlocks = (rows * cols) / BLOCK_SIZE;
  if (cols % BLOCK_SIZE !== 0 || raw.length !== numBlocks * blockBytes)
    throw formatError(`a [${rows}, ${cols}] ${type} tensor needs ${numBlocks * blockBytes} bytes, got ${raw.length}`);
  const quants = new Uint8Array(rows * cols);
  const scales = new Float32Array(numBlocks);
  for (let b = 0; b < numBlocks; b++) {
    const at = b * blockBytes;
    scales[b] = float16BitsToNumber(raw[at] | (raw[at + 1] << 8));
    const o = b * BLOCK_SIZE;
    if (type === 'Q8_0') {
      for (let j = 0; j < 32; j++) quants[o + j] = raw[at + 2 + j] ^ 0x80; // int8 q -> q + 128
    } else {
      for (let j = 0; j < 16; j++) {
        quants[o + j] = raw[at + 2 + j] & 0x0f;
        quants[o + j + 16] = raw[at + 2 + j] >> 4;
      }
    }
  }
  return {
    bits: type === 'Q8_0' ? 8 : 4,
    blockSize: BLOCK_SIZE,
    shape,
    quants,
    scales,
    zeroPoint: type === 'Q8_0' ? 128 : 8,
  };
}

/** x = (q − zeroPoint) · scale, as float32: equals GGUF's own dequantization of the same blocks. */
export function blocksToFloat32(blocks: QuantizedBlocks): Float32Array {
  const out = new Float32Array(blocks.quants.length);
  for (let i = 0; i < out.length; i++)
    out[i] = Math.fround((blocks.quants[i] - blocks.zeroPoint) * blocks.scales[(i / BLOCK_SIZE) | 0]);
  return out;
}
