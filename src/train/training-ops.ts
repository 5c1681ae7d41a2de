/**
 * Ops for training graphs: the model builders' compositions (norms, GELU) with hand-written
 * gradients. onnxruntime's CPU provider runs every elementwise node as its own pass over memory
 * and fuses none of them in a training graph (the backward pass reads the intermediates), so
 * fewer nodes is what makes these layers fast: GELU goes from 23 full-size passes (forward and
 * generic backward) to 14, LayerNorm from 17 to 12, RMSNorm from 13 to 9, SiLU from 8 to 6. Inference graphs keep
 * the plain Ops (their patterns are the ones onnxruntime fuses into single kernels).
 */
import { defineGradient } from '../engine/autodiff.ts';
import type { Value } from '../engine/graph.ts';
import { Ops } from '../engine/ops.ts';

const C = Math.sqrt(2 / Math.PI);
const K = 0.044715 * C;

/** The leading (row) axes of x [..., D]: a norm's weight gradient sums over them. */
const rowAxes = (x: Value) => x.shape.slice(0, -1).map((_, i) => i);

export class TrainingOps extends Ops {
  /** gelu_new: 0.5·x·(1 + tanh(c·(x + 0.044715·x³))) written as x·σ(2c·x + 2k·x³), the same function. */
  override geluTanh(x: Value): Value {
    const x2 = this.mul(x, x);
    const s = this.sigmoid(this.mul(x, this.add(this.mul(x2, this.scalar(2 * K)), this.scalar(2 * C))));
    const y = this.mul(x, s);
    defineGradient(this.g, y, {
      inputs: [x],
      // dy/dx = s + x·s·(1 − s)·(2c + 6k·x²)
      grad: (o, dy) => {
        const slope = o.add(o.mul(x2, o.scalar(6 * K)), o.scalar(2 * C));
        const ds = o.mul(o.mul(o.mul(s, o.sub(o.scalar(1), s)), slope), x);
        return [o.mul(dy, o.add(ds, s))];
      },
    });
    return y;
  }

  /** SiLU x·σ(x) (llama's MLP gate): the generic backward takes 6 passes, this one 4. */
  override silu(x: Value): Value {
    const s = this.sigmoid(x);
    const y = this.mul(x, s);
    defineGradient(this.g, y, {
      inputs: [x],
      // dy/dx = s·(1 + x·(1 − s)) = s + y − s·y
      grad: (o, dy) => [o.mul(dy, o.sub(o.add(s, y), o.mul(s, y)))],
    });
    return y;
  }

  override rmsNorm(x: Value, weight: Value, eps: number): Value {
    const r = this.reciprocal(this.sqrt(this.add(this.reduceMean(this.mul(x, x), [-1]), this.scalar(eps))));
    const xr = this.mul(x, r);
    const y = this.mul(xr, weight);
    defineGradient(this.g, y, {
      inputs: [x, weight],
      // g = dy·w;  dx = r·(g − xr·mean(g·xr));  dw = Σ_rows dy·xr
      grad: (o, dy, needs) => {
        const g = o.mul(dy, weight);
        const dx = needs[0] ? o.mul(o.sub(g, o.mul(xr, o.reduceMean(o.mul(g, xr), [-1]))), r) : null;
        const dw = needs[1] ? o.reduceSum(o.mul(dy, xr), rowAxes(x), false) : null;
        return [dx, dw];
      },
    });
    return y;
  }

  override layerNorm(x: Value, weight: Value, bias: Value, eps: number): Value {
    const centered = this.sub(x, this.reduceMean(x, [-1]));
    const rstd = this.reciprocal(
      this.sqrt(this.add(this.reduceMean(this.mul(centered, centered), [-1]), this.scalar(eps))),
    );
    const xhat = this.mul(centered, rstd);
    const y = this.add(this.mul(xhat, weight), bias);
    defineGradient(this.g, y, {
      inputs: [x, weight, bias],
      // g = dy·w;  dx = rstd·(g − mean(g) − xhat·mean(g·xhat));  dw = Σ_rows dy·xhat;  db = Σ_rows dy
      grad: (o, dy, needs) => {
        let dx: Value | null = null;
        if (needs[0]) {
          const g = o.mul(dy, weight);
          const mean = o.reduceMean(g, [-1]);
          const proj = o.mul(xhat, o.reduceMean(o.mul(g, xhat), [-1]));
          dx = o.mul(o.sub(o.sub(g, mean), proj), rstd);
        }
        const dw = needs[1] ? o.reduceSum(o.mul(dy, xhat), rowAxes(x), false) : null;
        const db = needs[2] ? o.reduceSum(dy, rowAxes(x), false) : null;
        return [dx, dw, db];
      },
    });
    return y;
  }
}
