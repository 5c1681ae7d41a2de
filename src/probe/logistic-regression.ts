import { minimizeLbfgs } from '../util/lbfgs.ts';
import type { Matrix } from './matrix.ts';

/** Multiclass (softmax) logistic regression: weights [features × classes] and biases. */
export interface SoftmaxClassifier {
  classes: number;
  weights: Float64Array;
  bias: Float64Array;
  l2: number;
}

/**
 * Fits mean cross-entropy + (l2/2)·‖W‖² with L-BFGS (biases unpenalized). Expects
 * standardized features; `warmStart` continues from another fit (used along a λ path).
 */
export function fitLogistic(
  x: Matrix,
  labels: Int32Array,
  classes: number,
  l2: number,
  warmStart?: SoftmaxClassifier,
  maxIterations = 100,
): SoftmaxClassifier {
  const { rows: n, cols: d, data } = x;
  const size = d * classes + classes;
  const x0 = new Float64Array(size);
  if (warmStart) {
    x0.set(warmStart.weights);
    x0.set(warmStart.bias, d * classes);
  }
  const logits = new Float64Array(classes);
  const objective = (theta: Float64Array, grad: Float64Array) => {
    grad.fill(0);
    let loss = 0;
    const bOff = d * classes;
    for (let i = 0; i < n; i++) {
      const row = i * d;
      for (let c = 0; c < classes; c++) logits[c] = theta[bOff + c];
      for (let p = 0; p < d; p++) {
        const v = data[row + p];
        if (v === 0) continue;
        const w = p * classes;
        for (let c = 0; c < classes; c++) logits[c] += v * theta[w + c];
      }
      let max = -Infinity;
      for (let c = 0; c < classes; c++) max = Math.max(max, logits[c]);
      let z = 0;
      for (let c = 0; c < classes; c++) z += Math.exp(logits[c] - max);
      const logZ = max + Math.log(z);
      loss += logZ - logits[labels[i]];
      for (let c = 0; c < classes; c++) logits[c] = Math.exp(logits[c] - logZ) - (c === labels[i] ? 1 : 0);
      for (let c = 0; c < classes; c++) grad[bOff + c] += logits[c];
      for (let p = 0; p < d; p++) {
        const v = data[row + p];
        if (v === 0) continue;
        const w = p * classes;
        for (let c = 0; c < classes; c++) grad[w + c] += v * logits[c];
      }
    }
    loss /= n;
    for (let k = 0; k < size; k++) grad[k] /= n;
    for (let k = 0; k < bOff; k++) {
      loss += 0.5 * l2 * theta[k] * theta[k];
      grad[k] += l2 * theta[k];
    }
    return loss;
  };
  const { x: theta } = minimizeLbfgs(objective, x0, {
    maxIterations,
    gradientTolerance: 1e-4,
    functionTolerance: 1e-9,
  });
  return { classes, weights: theta.slice(0, d * classes), bias: theta.slice(d * classes), l2 };
}

/** Class probabilities, [rows × classes]. */
export function predictLogistic(model: SoftmaxClassifier, x: Matrix): Float64Array {
  const { classes, weights, bias } = model;
  const out = new Float64Array(x.rows * classes);
  for (let i = 0; i < x.rows; i++) {
    const o = i * classes;
    for (let c = 0; c < classes; c++) out[o + c] = bias[c];
    for (let p = 0; p < x.cols; p++) {
      const v = x.data[i * x.cols + p];
      for (let c = 0; c < classes; c++) out[o + c] += v * weights[p * classes + c];
    }
    softmaxInPlace(out, o, classes);
  }
  return out;
}

export function softmaxInPlace(values: Float64Array, offset: number, length: number): void {
  let max = -Infinity;
  for (let c = 0; c < length; c++) max = Math.max(max, values[offset + c]);
  let z = 0;
  for (let c = 0; c < length; c++) z += values[offset + c] = Math.exp(values[offset + c] - max);
  for (let c = 0; c < length; c++) values[offset + c] /= z;
}

/** Index of the largest probability in each row. */
export function argmaxRows(probabilities: Float64Array, classes: number): Int32Array {
  const n = probabilities.length / classes;
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let c = 1; c < classes; c++) if (probabilities[i * classes + c] > probabilities[i * classes + best]) best = c;
    out[i] = best;
  }
  return out;
}

/** Mean negative log-likelihood of the labels under row-wise probabilities. */
export function meanLogLoss(probabilities: Float64Array, labels: Int32Array, classes: number): number {
  let s = 0;
  for (let i = 0; i < labels.length; i++) s -= Math.log(Math.max(probabilities[i * classes + labels[i]], 1e-12));
  return s / labels.length;
}
