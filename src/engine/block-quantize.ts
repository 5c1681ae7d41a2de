/**
 * Weight-only block quantization in onnxruntime's MatMulNBits layout. A weight [N, K] (HF's
 * [out, in]) is cut along K into blocks of `blockSize`; each block of a row keeps a float scale
 * and an unsigned zero point, and every weight becomes q = round(w / scale) + zeroPoint in
 * [0, 2^bits − 1] (asymmetric min/max, zero exactly representable). Dequantized:
 * (q − zeroPoint)·scale, so the error per weight is at most scale / 2. 4-bit values pack two to a
 * byte, the first in the low nibble; a last partial block is padded with the zero point.
 */
import { Graph } from './graph.ts';
import type { LazyBytes } from './onnx-proto.ts';
import type { QuantizedWeightValues } from './contrib-ops.ts';
import { AlignkitError } from '../errors.ts';

export interface BlockQuantized {
  /** output features (rows of the [N, K] weight) */
  n: number;
  /** input features (the quantized axis) */
  k: number;
  bits: 4 | 8;
  blockSize: number;
  /** uint8 [N, blocks, blockSize·bits/8] */
  data: Uint8Array;
  /** [N, blocks] */
  scales: Float32Array;
  /**
   * [N, ⌈blocks·bits/8⌉], packed like `data`; absent: every block's zero point is 2^(bits−1), as
   * MatMulNBits assumes (GGUF's Q8_0 and Q4_0 are symmetric and need none)
   */
  zeroPoints?: Uint8Array;
}

/** The zero point of block `b` of row `row` (2^(bits−1) when the weight has none stored). */
export function zeroPointOf(q: BlockQuantized, row: number, b: number): number {
  if (!q.zeroPoints) return 1 << (q.bits - 1);
  const zpRow = Math.ceil((blockCount(q.k, q.blockSize) * q.bits) / 8);
  const byte = q.zeroPoints[row * zpRow + (q.bits === 8 ? b : b >> 1)];
  return q.bits === 8 ? byte : (byte >> ((b & 1) * 4)) & 15;
}

/** The unsigned code of value `i` of a block starting at byte `base` of `q.data`. */
export const codeAt = (q: BlockQuantized, base: number, i: number): number =>
  q.bits === 8 ? q.data[base + i] : (q.data[base + (i >> 1)] >> ((i & 1) * 4)) & 15;

/** Bytes the weight takes in memory (codes, scales, zero points). */
export const quantizedBytes = (q: BlockQuantized): number =>
  q.data.byteLength + q.scales.byteLength + (q.zeroPoints?.byteLength ?? 0);

export const blockCount = (k: number, blockSize: number) => Math.ceil(k / blockSize);

/**
 * A block-quantized weight known by its geometry, whose codes are made on demand by `load`
 * (read from a file and converted when the graph is written, one weight at a time).
 */
export interface QuantizedMatrix {
  n: number;
  k: number;
  bits: 4 | 8;
  blockSize: number;
  /** whether `load()` gives zero points (otherwise every block's is 2^(bits−1)) */
  zeroPoints: boolean;
  load(): BlockQuantized;
}

/** A weight already in memory, as a QuantizedMatrix. */
export const inMemory = (q: BlockQuantized): QuantizedMatrix => ({
  n: q.n,
  k: q.k,
  bits: q.bits,
  blockSize: q.blockSize,
  zeroPoints: q.zeroPoints !== undefined,
  load: () => q,
});

/**
 * Matrices of the same input width and block layout stacked row-wise into one [ΣN, K] matrix (the
 * rows stay independent blocks, so stacking is concatenation); null when their layouts differ.
 */
export function stackRows(parts: readonly QuantizedMatrix[]): QuantizedMatrix | null {
  const [first] = parts;
  const { k, bits, blockSize, zeroPoints } = first;
  const same = (m: QuantizedMatrix) =>
    m.k === k && m.bits === bits && m.blockSize === blockSize && m.zeroPoints === zeroPoints;
  if (!parts.every(same)) return null;
  const n = parts.reduce((sum, m) => sum + m.n, 0);
  return {
    n,
    k,
    bits,
    blockSize,
    zeroPoints,
    load() {
      const loaded = parts.map((m) => m.load());
      return {
        ...{ n, k, bits, blockSize },
        data: joined(loaded.map((q) => q.data)),
        scales: joined(loaded.map((q) => q.scales)),
        zeroPoints: zeroPoints ? joined(loaded.map((q) => q.zeroPoints!)) : undefined,
      };
    },
  };
}

/**
 * `q` cut into consecutive row ranges of at most `rows` rows, each a QuantizedMatrix of its own
 * (rows are independent blocks, so a range is a view). The whole matrix is loaded once, when the
 * first range is, and dropped once every range has been.
 */
export function rowChunks(q: QuantizedMatrix, rows: number): QuantizedMatrix[] {
  const count = Math.ceil(q.n / rows);
  if (count <= 1) return [q];
  let loaded: BlockQuantized | null = null;
  const waiting = new Set<number>();
  return Array.from({ length: count }, (_, c) => {
    const from = c * rows;
    const to = Math.min(q.n, from + rows);
    return {
      ...q,
      n: to - from,
      load() {
        if (!loaded) {
          loaded = q.load();
          for (let i = 0; i < count; i++) waiting.add(i);
        }
        const range = sliceRows(loaded, from, to);
        waiting.delete(c);
        if (waiting.size === 0) loaded = null;
        return range;
      },
    };
  });
}

/** Rows [from, to) of a loaded weight, as views of its arrays. */
function sliceRows(q: BlockQuantized, from: number, to: number): BlockQuantized {
  const blocks = blockCount(q.k, q.blockSize);
  const rowBytes = (blocks * q.blockSize * q.bits) / 8;
  const zpRow = Math.ceil((blocks * q.bits) / 8);
  return {
    ...{ n: to - from, k: q.k, bits: q.bits, blockSize: q.blockSize },
    data: q.data.subarray(from * rowBytes, to * rowBytes),
    scales: q.scales.subarray(from * blocks, to * blocks),
    zeroPoints: q.zeroPoints?.subarray(from * zpRow, to * zpRow),
  };
}

/** The arrays one after another, in one array of their type. */
function joined<T extends Uint8Array | Float32Array>(xs: readonly T[]): T {
  const out = new (xs[0].constructor as new (length: number) => T)(xs.reduce((sum, x) => sum + x.length, 0));
  let at = 0;
  for (const x of xs) {
    out.set(x, at);
    at += x.length;
  }
  return out;
}

/**
 * `parts` of one loaded weight as lazy initializer bytes: the weight is loaded when the first
 * part is written and dropped after the last, so a graph's weights stream through memory.
 */
export function lazyParts(
  m: QuantizedMatrix,
  parts: readonly { byteLength: number; bytes: (q: BlockQuantized) => ArrayBufferView }[],
): LazyBytes[] {
  let loaded: BlockQuantized | null = null;
  let left = 0;
  return parts.map((part) => ({
    byteLength: part.byteLength,
    produce() {
      if (!loaded) {
        loaded = m.load();
        left = parts.length;
      }
      const view = part.bytes(loaded);
      if (--left === 0) loaded = null;
      return new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
    },
  }));
}

/** Quantizes a row-major [n, k] weight. */
export function quantizeBlockwise(
  weight: Float32Array,
  n: number,
  k: number,
  bits: 4 | 8,
  blockSize = 32,
): BlockQuantized {
  if (weight.length !== n * k)
    throw new AlignkitError('internal', `weight of ${weight.length} values is not ${n}×${k}`);
  if (blockSize < 16 || (blockSize & (blockSize - 1)) !== 0)
    throw new AlignkitError('internal', `block size ${blockSize} is not a power of two ≥ 16`);
  const levels = (1 << bits) - 1;
  const blocks = blockCount(k, blockSize);
  const blob = (blockSize * bits) / 8;
  const zpRow = Math.ceil((blocks * bits) / 8);
  const data = new Uint8Array(n * blocks * blob);
  const scales = new Float32Array(n * blocks);
  const zeroPoints = new Uint8Array(n * zpRow);
  const codes = new Uint8Array(blockSize);
  for (let row = 0; row < n; row++) {
    for (let b = 0; b < blocks; b++) {
      const start = row * k + b * blockSize;
      const size = Math.min(blockSize, k - b * blockSize);
      let lo = 0,
        hi = 0;
      for (let i = 0; i < size; i++) {
        lo = Math.min(lo, weight[start + i]);
        hi = Math.max(hi, weight[start + i]);
      }
      const scale = hi > lo ? (hi - lo) / levels : 1;
      const zero = Math.min(levels, Math.max(0, Math.round(-lo / scale)));
      // the kernel reads the float32 scale: quantize against that very value
      const stored = Math.fround(scale);
      codes.fill(zero);
      for (let i = 0; i < size; i++)
        codes[i] = Math.min(levels, Math.max(0, Math.round(weight[start + i] / stored) + zero));
      scales[row * blocks + b] = stored;
      pack(codes, bits, data, (row * blocks + b) * blob);
      if (bits === 8) zeroPoints[row * zpRow + b] = zero;
      else zeroPoints[row * zpRow + (b >> 1)] |= zero << ((b & 1) * 4);
    }
  }
  return { n, k, bits, blockSize, data, scales, zeroPoints };
}

function pack(codes: Uint8Array, bits: 4 | 8, out: Uint8Array, offset: number): void {
  if (bits === 8) {
    out.set(codes, offset);
    return;
  }
  for (let i = 0; i < codes.length; i += 2) out[offset + i / 2] = codes[i] | (codes[i + 1] << 4);
}

/** The weight the kernel multiplies by: row-major [n, k] floats. */
export function dequantizeBlockwise(q: BlockQuantized): Float32Array {
  const { n, k, bits, blockSize } = q;
  const blocks = blockCount(k, blockSize);
  const blob = (blockSize * bits) / 8;
  const out = new Float32Array(n * k);
  for (let row = 0; row < n; row++)
    for (let b = 0; b < blocks; b++) {
      const zero = zeroPointOf(q, row, b);
      const scale = q.scales[row * blocks + b];
      const base = (row * blocks + b) * blob;
      for (let i = 0; i < blockSize && b * blockSize + i < k; i++)
        out[row * k + b * blockSize + i] = (codeAt(q, base, i) - zero) * scale;
    }
  return out;
}

/** Adds a quantized weight to a graph as initializers (streamed when `q` is), ready for ContribOps.matMulNBits. */
export function quantizedInitializers(
  g: Graph,
  name: string,
  q: BlockQuantized | QuantizedMatrix,
): QuantizedWeightValues {
  const m = 'load' in q ? q : inMemory(q);
  const blocks = blockCount(m.k, m.blockSize);
  const blob = (m.blockSize * m.bits) / 8;
  const zpRow = Math.ceil((blocks * m.bits) / 8);
  const [data, scales, zeroPoints] = lazyParts(m, [
    { byteLength: m.n * blocks * blob, bytes: (b) => b.data },
    { byteLength: m.n * blocks * 4, bytes: (b) => b.scales },
    ...(m.zeroPoints ? [{ byteLength: m.n * zpRow, bytes: (b: BlockQuantized) => b.zeroPoints! }] : []),
  ]);
  return {
    k: m.k,
    n: m.n,
    bits: m.bits,
    blockSize: m.blockSize,
    data: g.tensor(`${name}.q${m.bits}`, 'uint8', [m.n, blocks, blob], data),
    scales: g.tensor(`${name}.scales`, 'float32', [m.n, blocks], scales),
    zeroPoints: zeroPoints && g.tensor(`${name}.zero_points`, 'uint8', [m.n, zpRow], zeroPoints),
  };
}
