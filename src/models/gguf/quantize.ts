/**
 * float32 -> GGUF block types, following ggml-quants.c's reference quantizers
 * (`quantize_row_q8_0_ref`, `quantize_row_q4_0_ref`) step by step in float32 arithmetic, so a
 * file alignkit writes holds the blocks llama.cpp's own converter would write for the same floats.
 */
import { float32ToFloat16 } from '../../util/half-precision.ts';
import { ggmlType } from './ggml-types.ts';

const f32 = Math.fround;
const toHalfBits = (x: number) => float32ToFloat16(Float32Array.of(x))[0];
/** C's roundf: halves away from zero. */
const roundHalfAway = (x: number) => Math.sign(x) * Math.round(Math.abs(x));

export type QuantizeType = 'Q8_0' | 'Q4_0';

/** Encodes a whole number of 32-value blocks. */
export function quantize(type: QuantizeType, values: Float32Array): Uint8Array {
  const { blockSize, blockBytes } = ggmlType(type);
  if (values.length % blockSize !== 0) throw new RangeError(`${values.length} values are not whole ${type} blocks`);
  const out = new Uint8Array((values.length / blockSize) * blockBytes);
  const encode = type === 'Q8_0' ? encodeQ8_0 : encodeQ4_0;
  for (let b = 0; b < values.length / blockSize; b++) encode(values, b * blockSize, out, b * blockBytes);
  return out;
}

function writeHalf(out: Uint8Array, at: number, x: number): void {
  const h = toHalfBits(x);
  out[at] = h & 0xff;
  out[at + 1] = h >> 8;
}

/** d = max|x| / 127; q = round(x / d). */
function encodeQ8_0(x: Float32Array, i: number, out: Uint8Array, at: number): void {
  let amax = 0;
  for (let j = 0; j < 32; j++) amax = Math.max(amax, Math.abs(x[i + j]));
  const d = f32(amax / 127);
  const id = d ? f32(1 / d) : 0;
  writeHalf(out, at, d);
  for (let j = 0; j < 32; j++) out[at + 2 + j] = roundHalfAway(f32(x[i + j] * id)) & 0xff;
}

/** d = (the value of largest magnitude) / −8, so it maps to −8 exactly; q = min(15, trunc(x/d + 8.5)). */
function encodeQ4_0(x: Float32Array, i: number, out: Uint8Array, at: number): void {
  let amax = 0;
  let max = 0;
  for (let j = 0; j < 32; j++) {
    if (amax < Math.abs(x[i + j])) {
      amax = Math.abs(x[i + j]);
      max = x[i + j];
    }
  }
  const d = f32(max / -8);
  const id = d ? f32(1 / d) : 0;
  writeHalf(out, at, d);
  const q = (v: number) => Math.min(15, Math.trunc(f32(f32(v * id) + 8.5)));
  for (let j = 0; j < 16; j++) out[at + 2 + j] = q(x[i + j]) | (q(x[i + j + 16]) << 4);
}
