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
 * onnxruntime 1.30 fuses a forward-only graph's pair into its blocked MatMulNBits kernel, but not
 * this one (both DequantizeLinear nodes read the same initializers): each float weight is written,
 * used and freed. Measured (bench training, a 131M-parameter llama shape, one LoRA step): peak RSS
 * 1,741 MiB over float32 weights, 792 MiB over 8-bit and 732 MiB over 4-bit codes.
 * The codes carry no gradient (integers) and the scales are constants: nothing reaches them.
 */
import { defineGradient } from '../engine/autodiff.ts';
import type { Value } from '../engine/graph.ts';
import type { Ops } from '../engine/ops.ts';
import { ACCURACY_LEVEL } from '../engine/contrib-ops.ts';
import type { QuantizedMatrix } from '../engine/block-quantize.ts';
import { codesByColumn, DQ_MATMUL_ACCURACY_KEY } from '../engine/quantized-matmul.ts';

export class FrozenQuantizedLinear {
  private readonly columns: Value[];

  constructor(
    private readonly o: Ops,
    name: string,
    private readonly q: QuantizedMatrix,
  ) {
    this.columns = codesByColumn(o.g, name, q);
    // where onnxruntime fuses a product (forward-only graphs: evaluation, reference log-probs), x stays float32 as here
    o.g.sessionConfig.set(DQ_MATMUL_ACCURACY_KEY, String(ACCURACY_LEVEL.float32));
  }

  /** The weight [in, out] as floats: a new DequantizeLinear node per call. */
  dequantized(): Value {
    const { k, n, blockSize } = this.q;
    return this.o.g.node(
      'DequantizeLinear',
      this.columns,
      { axis: { kind: 'int', value: 0 }, block_size: { kind: 'int', value: blockSize } },
      [{ dtype: 'float32', shape: [k, n] }],
    )[0];
  }

  /** x [..., in] · W → [..., out], differentiable in x only. */
  project(x: Value): Value {
    const y = this.o.matmul(x, this.dequantized());
    defineGradient(this.o.g, y, {
      inputs: [x],
      grad: (o, dy) => [o.matmul(dy, o.transpose(this.dequantized(), [1, 0]))],
    });
    return y;
  }
}
