/**
 * A frozen base weight held as block codes in a training graph (QLoRA-style: Dettmers et al.;
 * only LoRA adapters train over it). The codes, scales and zero points are initializers laid out
 * [K, N] as standard ONNX `DequantizeLinear` with `block_size` (opset 21+) takes them, and every
 * use dequantizes afresh, so the float weight exists only while one product runs:
 *
 * - forward: x · DQ(W), a MatMul fed by its own DequantizeLinear;
 * - backward: ∂x = ∂y · DQ(W)ᵀ from a second DequantizeLinear (hand-written gradient), rather
 *   than the generic MatMul rule that would keep the forward's float weight alive from the
 *   forward pass to the backward one, i.e. the whole base in float32 at the step's peak.
 *
 * A weight larger than FROZEN_CHUNK_BYTES as float32 is dequantized a range of output rows at a
 * time (both passes), so no product ever holds more than that as floats: an LM head of 128k
 * words is 1–2 GB whole. The frozen LM head goes through `times` / `transposedTimes` from the
 * hand-written cross-entropy gradient (token-logprobs.ts) the same way.
 *
 * onnxruntime 1.30 fuses a forward-only graph's pair into its blocked MatMulNBits kernel, but not
 * this one (both DequantizeLinear nodes read the same initializers): each float weight is written,
 * used and freed. Measured (`alignkit train sft --lora-rank 8 --steps 2` over a Llama-3-8B-shaped
 * q4_0 file of 5.0 GB): peak RSS 21.9 GB with whole-matrix products and the head used whole,
 * 9.7 GB with row ranges of 64 MB.
 * The codes carry no gradient (integers) and the scales are constants: nothing reaches them.
 */
import { defineGradient } from '../engine/autodiff.ts';
import type { Value } from '../engine/graph.ts';
import type { Ops } from '../engine/ops.ts';
import type { FrozenQuantizedMatrix } from '../models/parameters.ts';
import { ACCURACY_LEVEL } from '../engine/contrib-ops.ts';
import { rowChunks, type QuantizedMatrix } from '../engine/block-quantize.ts';
import { codesByColumn, DQ_MATMUL_ACCURACY_KEY } from '../engine/quantized-matmul.ts';

/**
 * A float weight larger than this is dequantized a range of output rows at a time: the head of a
 * 128k-word vocabulary is 1–2 GB as float32, and a step over Llama-3-8B's q4_0 file peaked at
 * 21.9 GB with whole-matrix products (the file is 5.0 GB).
 */
export const FROZEN_CHUNK_BYTES = 64 * 2 ** 20;

export class FrozenQuantizedLinear implements FrozenQuantizedMatrix {
  /** the weight as row ranges (one unless it is larger than `chunkBytes` as float32), each with its initializers */
  private readonly chunks: { n: number; columns: Value[] }[];

  constructor(
    private readonly o: Ops,
    name: string,
    private readonly q: QuantizedMatrix,
    chunkBytes = FROZEN_CHUNK_BYTES,
  ) {
    const ranges = rowChunks(q, Math.max(1, Math.floor(chunkBytes / (4 * q.k))));
    this.chunks = ranges.map((range, i) => ({
      n: range.n,
      columns: codesByColumn(o.g, ranges.length === 1 ? name : `${name}.rows${i}`, range),
    }));
    // where onnxruntime fuses a product (forward-only graphs: evaluation, reference log-probs), x stays float32 as here
    o.g.sessionConfig.set(DQ_MATMUL_ACCURACY_KEY, String(ACCURACY_LEVEL.float32));
  }

  /** Rows of the weight as floats laid out [in, out]: a new DequantizeLinear node per call. */
  private dequantized(chunk: { n: number; columns: Value[] }): Value {
    const { k, blockSize } = this.q;
    return this.o.g.node(
      'DequantizeLinear',
      chunk.columns,
      { axis: { kind: 'int', value: 0 }, block_size: { kind: 'int', value: blockSize } },
      [{ dtype: 'float32', shape: [k, chunk.n] }],
    )[0];
  }

  /** The whole weight as floats [in, out] (a LoRA-adapted LM head needs it so). */
  whole(): Value {
    const parts = this.chunks.map((chunk) => this.dequantized(chunk));
    return parts.length === 1 ? parts[0] : this.o.concat(parts, -1);
  }

  /** x [..., in] · Wᵀ → [..., out], with no gradient of its own (each row range dequantized for its product). */
  times(x: Value): Value {
    const parts = this.chunks.map((chunk) => this.o.matmul(x, this.dequantized(chunk)));
    return parts.length === 1 ? parts[0] : this.o.concat(parts, -1);
  }

  /** dy [..., out] · W → [..., in]: the sum over row ranges of dy's columns times their rows. */
  transposedTimes(dy: Value, o: Ops = this.o): Value {
    const { chunks } = this;
    const last = dy.shape.length - 1;
    let from = 0;
    const terms = chunks.map((chunk) => {
      const dyRows = chunks.length === 1 ? dy : o.slice(dy, [from], [from + chunk.n], [last]);
      from += chunk.n;
      return o.matmul(dyRows, o.transpose(this.dequantized(chunk), [1, 0]));
    });
    return terms.length === 1 ? terms[0] : o.sum(terms);
  }

  /** x [..., in] · Wᵀ → [..., out], differentiable in x only. */
  project(x: Value): Value {
    const y = this.times(x);
    defineGradient(this.o.g, y, { inputs: [x], grad: (o, dy) => [this.transposedTimes(dy, o)] });
    return y;
  }
}
