/**
 * Weight-only quantized matmuls and embedding lookups of inference graphs: the weight stays in
 * memory as its block codes and scales (block-quantize.ts), never as a float32 copy, and
 * onnxruntime's kernels multiply by it. Two spellings of the same product:
 *
 * - `matmulnbits`: onnxruntime's `com.microsoft` MatMulNBits node, fed the codes as they are.
 * - `dequantize-linear`: the standard ONNX DequantizeLinear with `block_size` (opset 21+) on the
 *   weight laid out [K, N], feeding a MatMul; portable to any ONNX runtime, and onnxruntime's
 *   optimizer fuses the pair into the very MatMulNBits kernel (measured: same speed, same
 *   numbers). Its arithmetic is set per session (`Graph.sessionConfig`), not per node.
 *
 * Either way `accuracy` says whether x is multiplied in float32 or quantized to int8 first;
 * `accuracy4bit`, when set, overrides it for 4-bit weights (see QuantizedMatmulOptions).
 */
import type { Graph, Value } from './graph.ts';
import { ContribOps, ACCURACY_LEVEL, type MatMulAccuracy } from './contrib-ops.ts';
import {
  blockCount,
  codeAt,
  lazyParts,
  quantizedInitializers,
  zeroPointOf,
  type BlockQuantized,
  type QuantizedMatrix,
} from './block-quantize.ts';
import { AlignkitError, inputError, type ErrorWhere } from '../errors.ts';

export const QUANTIZED_KERNELS = ['matmulnbits', 'dequantize-linear'] as const;
export type QuantizedKernel = (typeof QUANTIZED_KERNELS)[number];
export const MATMUL_ACCURACIES = ['int8', 'float32'] as const;
/** ALIGNKIT_QUANTIZED_ACCURACY's values: an arithmetic for every product, or float32 for 4-bit weights only */
export const QUANTIZED_ACCURACIES = [...MATMUL_ACCURACIES, 'float32-4bit'] as const;

export interface QuantizedMatmulOptions {
  /** default 'matmulnbits' (the two measured the same; it needs no re-layout of the codes at load) */
  kernel: QuantizedKernel;
  /** default 'int8', as llama.cpp computes */
  accuracy: MatMulAccuracy;
  /**
   * The arithmetic of products by 4-bit weights, when it differs from `accuracy`. 'float32' takes
   * less memory: onnxruntime 1.30 (x86) prepacks a 4-bit weight for int8 arithmetic with its
   * scales and per-block sums and keeps the original scales too, 0.875 bytes per weight against
   * 0.625 for float32 (measured: a Llama-3-8B-shaped q4_0 model is 7.0 GB resident at int8); 8-bit
   * weights stay int8, since float32 arithmetic on them dequantizes the whole matrix on every call.
   */
  accuracy4bit?: MatMulAccuracy;
}

export const DEFAULT_QUANTIZED_MATMUL: QuantizedMatmulOptions = { kernel: 'matmulnbits', accuracy: 'int8' };

/** The kernel named by a flag, option or environment value. */
export function parseQuantizedKernel(name: string, where: ErrorWhere): QuantizedKernel {
  if ((QUANTIZED_KERNELS as readonly string[]).includes(name)) return name as QuantizedKernel;
  throw inputError(`unknown quantized matmul kernel "${name}" (available: ${QUANTIZED_KERNELS.join(', ')})`, where);
}

export function parseMatMulAccuracy(name: string, where: ErrorWhere): MatMulAccuracy {
  if ((MATMUL_ACCURACIES as readonly string[]).includes(name)) return name as MatMulAccuracy;
  throw inputError(`unknown quantized matmul accuracy "${name}" (available: ${MATMUL_ACCURACIES.join(', ')})`, where);
}

/** `accuracy` / `accuracy4bit` named by one of QUANTIZED_ACCURACIES. */
export function parseQuantizedAccuracy(
  name: string,
  where: ErrorWhere,
): Pick<QuantizedMatmulOptions, 'accuracy' | 'accuracy4bit'> {
  if (name === 'float32-4bit') return { accuracy: 'int8', accuracy4bit: 'float32' };
  if ((MATMUL_ACCURACIES as readonly string[]).includes(name)) return { accuracy: name as MatMulAccuracy };
  throw inputError(
    `unknown quantized matmul accuracy "${name}" (available: ${QUANTIZED_ACCURACIES.join(', ')})`,
    where,
  );
}

/** The arithmetic of a product by a `bits`-bit weight. */
export const accuracyFor = (options: QuantizedMatmulOptions, bits: 4 | 8): MatMulAccuracy =>
  bits === 4 ? (options.accuracy4bit ?? options.accuracy) : options.accuracy;

/** The session setting that gives fused DequantizeLinear → MatMul pairs their arithmetic. */
export const DQ_MATMUL_ACCURACY_KEY = 'session.qdq_matmulnbits_accuracy_level';

/**
 * A quantized nn.Linear weight W [N, K] in a graph: its initializers are added once (`name` names
 * them), and every `apply(x)` multiplies x [..., K] by Wᵀ with them.
 */
export class QuantizedLinear {
  readonly apply: (x: Value) => Value;

  constructor(g: Graph, name: string, q: QuantizedMatrix, options: QuantizedMatmulOptions) {
    const accuracy = accuracyFor(options, q.bits);
    if (options.kernel === 'matmulnbits') {
      const w = quantizedInitializers(g, name, q);
      const contrib = new ContribOps(g);
      this.apply = (x) => contrib.matMulNBits(x, w, accuracy);
      return;
    }
    // the fused pairs' arithmetic is one per session
    if (accuracy !== options.accuracy)
      throw new AlignkitError('input', 'a separate 4-bit accuracy needs the matmulnbits kernel, not dequantize-linear');
    g.sessionConfig.set(DQ_MATMUL_ACCURACY_KEY, String(ACCURACY_LEVEL[accuracy]));
    const columns = codesByColumn(g, name, q);
    const { k, n, blockSize } = q;
    // a DequantizeLinear per product: onnxruntime fuses the pair only when the MatMul is its sole consumer
    this.apply = (x) => {
      const weight = g.node(
        'DequantizeLinear',
        columns,
        { axis: { kind: 'int', value: 0 }, block_size: { kind: 'int', value: blockSize } },
        [{ dtype: 'float32', shape: [k, n] }],
      )[0];
      return g.node('MatMul', [x, weight], {}, [{ dtype: 'float32', shape: [...x.shape.slice(0, -1), n] }])[0];
    };
  }
}

/** W's codes, scales and zero points laid out [K, N], blocks down the columns (axis 0): the layout onnxruntime fuses with a MatMul. */
export function codesByColumn(g: Graph, name: string, m: QuantizedMatrix): Value[] {
  const { k, n, bits, blockSize } = m;
  const blocks = blockCount(k, blockSize);
  const dtype = bits === 4 ? 'uint4' : 'uint8';
  const [codes, scales, zeros] = lazyParts(m, [
    { byteLength: packedBytes(bits, k * n), bytes: codesInColumns },
    {
      byteLength: blocks * n * 4,
      bytes: (q) => {
        const out = new Float32Array(blocks * n);
        for (let row = 0; row < n; row++)
          for (let b = 0; b < blocks; b++) out[b * n + row] = q.scales[row * blocks + b];
        return out;
      },
    },
    {
      byteLength: packedBytes(bits, blocks * n),
      bytes: (q) => packed(bits, blocks * n, (i) => zeroPointOf(q, i % n, (i / n) | 0)),
    },
  ]);
  return [
    g.tensor(`${name}.q${bits}`, dtype, [k, n], codes),
    g.tensor(`${name}.scales`, 'float32', [blocks, n], scales),
    g.tensor(`${name}.zero_points`, dtype, [blocks, n], zeros),
  ];
}

/**
 * The codes of W [N, K] laid out [K, N] (code of row r, input kk at kk·N + r), packed like W's.
 * Plain loops over W's rows: an 8B model has 7·10⁹ codes to move here.
 */
function codesInColumns(q: BlockQuantized): Uint8Array {
  const { k, n, bits, blockSize, data } = q;
  const rowBytes = (blockCount(k, blockSize) * blockSize * bits) / 8;
  const out = new Uint8Array(packedBytes(bits, k * n));
  for (let row = 0; row < n; row++) {
    const from = row * rowBytes;
    if (bits === 8) {
      for (let kk = 0; kk < k; kk++) out[kk * n + row] = data[from + kk];
      continue;
    }
    // a row's blocks are contiguous and even-sized, so its value kk is nibble kk & 1 of byte kk >> 1
    for (let kk = 0; kk < k; kk++) {
      const code = (data[from + (kk >> 1)] >> ((kk & 1) << 2)) & 15;
      const i = kk * n + row;
      out[i >> 1] |= code << ((i & 1) << 2);
    }
  }
  return out;
}

/**
 * Rows `ids` of a quantized table [V, K] (an embedding), dequantized: the codes, scales and zero
 * points of the rows are gathered, then DequantizeLinear widens only those rows. 4-bit tables are
 * held as 8-bit codes here (Gather has no 4-bit types).
 */
export function quantizedGather(g: Graph, table: QuantizedMatrix, ids: Value, name: string): Value {
  const { n: rows, k, blockSize } = table;
  if (k % blockSize !== 0) throw new RangeError(`${name}: rows of ${k} are not whole blocks of ${blockSize}`);
  const blocks = k / blockSize;
  const [codes, scales, zeros] = lazyParts(table, [
    {
      byteLength: rows * k,
      bytes: (q) =>
        q.bits === 8
          ? q.data
          : packed(8, rows * k, (i) => {
              const col = i % k;
              const block = ((i / k) | 0) * blocks + ((col / blockSize) | 0);
              return codeAt(q, (block * blockSize) / 2, col % blockSize);
            }),
    },
    { byteLength: rows * blocks * 4, bytes: (q) => q.scales },
    {
      byteLength: rows * blocks,
      bytes: (q) => packed(8, rows * blocks, (i) => zeroPointOf(q, (i / blocks) | 0, i % blocks)),
    },
  ]);
  const gather = (t: Value, last: number, dtype: Value['dtype']) =>
    g.node('Gather', [t, ids], { axis: { kind: 'int', value: 0 } }, [{ dtype, shape: [...ids.shape, last] }])[0];
  return g.node(
    'DequantizeLinear',
    [
      gather(g.tensor(`${name}.q8`, 'uint8', [rows, k], codes), k, 'uint8'),
      gather(g.tensor(`${name}.scales`, 'float32', [rows, blocks], scales), blocks, 'float32'),
      gather(g.tensor(`${name}.zero_points`, 'uint8', [rows, blocks], zeros), blocks, 'uint8'),
    ],
    { axis: { kind: 'int', value: -1 }, block_size: { kind: 'int', value: blockSize } },
    [{ dtype: 'float32', shape: [...ids.shape, k] }],
  )[0];
}

const packedBytes = (bits: 4 | 8, count: number) => (bits === 8 ? count : Math.ceil(count / 2));

/** `count` codes of `bits` bits, two to a byte (low nibble first) for 4 bits. */
function packed(bits: 4 | 8, count: number, code: (i: number) => number): Uint8Array {
  if (bits === 8) {
    const out = new Uint8Array(count);
    for (let i = 0; i < count; i++) out[i] = code(i);
    return out;
  }
  const out = new Uint8Array(Math.ceil(count / 2));
  for (let i = 0; i < count; i++) out[i >> 1] |= code(i) << ((i & 1) * 4);
  return out;
}
