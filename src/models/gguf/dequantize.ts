/**
 * GGUF tensor data -> float32, written from the block layouts of ggml-common.h and the reference
 * `dequantize_row_*` functions of ggml-quants.c. Every product below is exact in a double (a
 * float16 scale has 11 significant bits, the quants at most 8), so rounding once to float32
 * gives the same bits as ggml's float arithmetic, fused multiply-add or not.
 */
import { formatError } from '../../errors.ts';
import { bfloat16ToFloat32, float16BitsToNumber, float16ToFloat32 } from '../../util/half-precision.ts';
import { QK_K, ggmlType, type GgmlTypeName } from './ggml-types.ts';

const f32 = Math.fround;

/** Decodes `count` values of `type` from `bytes` (the tensor's data, exactly its size). */
export function dequantize(type: GgmlTypeName, bytes: Uint8Array, count: number): Float32Array {
  const t = ggmlType(type);
  const blocks = count / t.blockSize;
  if (!Number.isInteger(blocks) || bytes.length !== blocks * t.blockBytes)
    throw formatError(`${count} ${type} values need ${blocks * t.blockBytes} bytes, got ${bytes.length}`);
  if (type === 'F32' || type === 'F16' || type === 'BF16') return decodePlain(type, bytes, count);
  const out = new Float32Array(count);
  const decode = BLOCK_DECODERS[type];
  for (let b = 0; b < blocks; b++) decode(bytes, b * t.blockBytes, out, b * t.blockSize);
  return out;
}

/** The plain types: one typed-array pass. The view is taken in place when `bytes` is aligned (a fresh read). */
function decodePlain(type: 'F32' | 'F16' | 'BF16', bytes: Uint8Array, count: number): Float32Array {
  const aligned = bytes.byteOffset % 4 === 0 ? bytes : new Uint8Array(bytes);
  if (type === 'F32') return new Float32Array(aligned.buffer, aligned.byteOffset, count);
  const bits = new Uint16Array(aligned.buffer, aligned.byteOffset, count);
  return type === 'F16' ? float16ToFloat32(bits) : bfloat16ToFloat32(bits);
}

type BlockDecoder = (src: Uint8Array, at: number, out: Float32Array, o: number) => void;

const half = (src: Uint8Array, at: number) => float16BitsToNumber(src[at] | (src[at + 1] << 8));

const BLOCK_DECODERS: Record<Exclude<GgmlTypeName, 'F32' | 'F16' | 'BF16'>, BlockDecoder> = {
  // block_q8_0: f16 d, int8 qs[32]; x = q·d
  Q8_0: (src, at, out, o) => {
    const d = half(src, at);
    for (let j = 0; j < 32; j++) out[o + j] = f32(((src[at + 2 + j] << 24) >> 24) * d);
  },
  // block_q4_0: f16 d, qs[16]: value j in the low nibble of byte j, value j+16 in its high nibble; x = (q-8)·d
  Q4_0: (src, at, out, o) => {
    const d = half(src, at);
    for (let j = 0; j < 16; j++) {
      const q = src[at + 2 + j];
      out[o + j] = f32(((q & 0x0f) - 8) * d);
      out[o + j + 16] = f32(((q >> 4) - 8) * d);
    }
  },
  // block_q4_1: f16 d, f16 m, qs[16]; x = q·d + m
  Q4_1: (src, at, out, o) => {
    const d = half(src, at);
    const m = half(src, at + 2);
    for (let j = 0; j < 16; j++) {
      const q = src[at + 4 + j];
      out[o + j] = f32((q & 0x0f) * d + m);
      out[o + j + 16] = f32((q >> 4) * d + m);
    }
  },
  // block_q5_0: f16 d, u32 qh (the 5th bits, value j at bit j), qs[16]; x = (q-16)·d
  Q5_0: (src, at, out, o) => {
    const d = half(src, at);
    const qh = readU32(src, at + 2);
    for (let j = 0; j < 16; j++) {
      const q = src[at + 6 + j];
      out[o + j] = f32((((q & 0x0f) | (((qh >>> j) & 1) << 4)) - 16) * d);
      out[o + j + 16] = f32((((q >> 4) | (((qh >>> (j + 16)) & 1) << 4)) - 16) * d);
    }
  },
  // block_q5_1: f16 d, f16 m, u32 qh, qs[16]; x = q·d + m
  Q5_1: (src, at, out, o) => {
    const d = half(src, at);
    const m = half(src, at + 2);
    const qh = readU32(src, at + 4);
    for (let j = 0; j < 16; j++) {
      const q = src[at + 8 + j];
      out[o + j] = f32(((q & 0x0f) | (((qh >>> j) & 1) << 4)) * d + m);
      out[o + j + 16] = f32(((q >> 4) | (((qh >>> (j + 16)) & 1) << 4)) * d + m);
    }
  },
  Q4_K: (src, at, out, o) => decodeQ4Q5K(src, at, out, o, false),
  Q5_K: (src, at, out, o) => decodeQ4Q5K(src, at, out, o, true),
  // block_q6_K: ql[128] (low 4 bits), qh[64] (high 2 bits), int8 scales[16], f16 d; x = d·scale·(q-32)
  Q6_K: (src, at, out, o) => {
    const ql0 = at;
    const qh0 = at + QK_K / 2;
    const sc0 = qh0 + QK_K / 4;
    const d = half(src, sc0 + QK_K / 16);
    const scale = (i: number) => (src[sc0 + i] << 24) >> 24;
    for (let n = 0; n < 2; n++) {
      const ql = ql0 + 64 * n;
      const qh = qh0 + 32 * n;
      const sc = 8 * n;
      const y = o + 128 * n;
      for (let l = 0; l < 32; l++) {
        const is = l >> 4;
        const h = src[qh + l];
        const q1 = ((src[ql + l] & 0x0f) | ((h & 3) << 4)) - 32;
        const q2 = ((src[ql + l + 32] & 0x0f) | (((h >> 2) & 3) << 4)) - 32;
        const q3 = ((src[ql + l] >> 4) | (((h >> 4) & 3) << 4)) - 32;
        const q4 = ((src[ql + l + 32] >> 4) | (((h >> 6) & 3) << 4)) - 32;
        out[y + l] = f32(d * scale(sc + is) * q1);
        out[y + l + 32] = f32(d * scale(sc + is + 2) * q2);
        out[y + l + 64] = f32(d * scale(sc + is + 4) * q3);
        out[y + l + 96] = f32(d * scale(sc + is + 6) * q4);
      }
    }
  },
};

/**
 * block_q4_K / block_q5_K: f16 d, f16 dmin, 12 bytes of eight 6-bit (scale, min) pairs, [q5: qh[32]],
 * qs[128]. Sub-block s (32 values) is x = d·scale_s·q − dmin·min_s; sub-blocks 2k and 2k+1 share
 * the 32 bytes qs[32k…32k+31] (low / high nibbles); Q5_K's 5th bit of sub-block s is bit s of qh.
 */
function decodeQ4Q5K(src: Uint8Array, at: number, out: Float32Array, o: number, fiveBits: boolean): void {
  const d = half(src, at);
  const dmin = half(src, at + 2);
  const scales = at + 4;
  const qh = at + 16;
  const qs = fiveBits ? qh + QK_K / 8 : qh;
  for (let s = 0; s < 8; s++) {
    const [sc, m] = scaleMinK4(src, scales, s);
    const d1 = d * sc;
    const m1 = dmin * m;
    const bytes = qs + 32 * (s >> 1);
    const shift = (s & 1) * 4;
    for (let l = 0; l < 32; l++) {
      let q = (src[bytes + l] >> shift) & 0x0f;
      if (fiveBits) q |= ((src[qh + l] >> s) & 1) << 4;
      out[o + 32 * s + l] = f32(d1 * q - m1);
    }
  }
}

/** get_scale_min_k4: pairs 0–3 are the low 6 bits of bytes j / j+4; pairs 4–7 are split across nibbles and top bits. */
export function scaleMinK4(src: Uint8Array, at: number, j: number): [number, number] {
  if (j < 4) return [src[at + j] & 63, src[at + j + 4] & 63];
  return [(src[at + j + 4] & 0x0f) | ((src[at + j - 4] >> 6) << 4), (src[at + j + 4] >> 4) | ((src[at + j] >> 6) << 4)];
}

const readU32 = (src: Uint8Array, at: number) =>
  (src[at] | (src[at + 1] << 8) | (src[at + 2] << 16) | (src[at + 3] << 24)) >>> 0;
