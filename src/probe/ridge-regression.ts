import { choleskySolve } from './cholesky.ts';
import type { Matrix } from './matrix.ts';

export interface LinearRegressor {
  weights: Float64Array;
  intercept: number;
  lambda: number;
}

/**
 * Closed-form ridge regression for every λ of a path, sharing one Gram matrix: the primal
 * (XᵀX + λI) w = Xᵀy when features ≤ items, otherwise the dual w = Xᵀ(XXᵀ + λI)⁻¹y.
 * Expects standardized features; the intercept is the train mean of y (unpenalized).
 */
export function fitRidgePath(x: Matrix, y: ArrayLike<number>, lambdas: readonly number[]): LinearRegressor[] {
  const { rows: n, cols: d, data } = x;
  let yMean = 0;
  for (let i = 0; i < n; i++) yMean += y[i];
  yMean /= n;
  const yc = new Float64Array(n);
  for (let i = 0; i < n; i++) yc[i] = y[i] - yMean;

  if (d <= n) {
    const gram = new Float64Array(d * d),
      xty = new Float64Array(d);
    for (let i = 0; i < n; i++) {
      const row = i * d;
      for (let p = 0; p < d; p++) {
        const v = data[row + p];
        if (v === 0) continue;
        xty[p] += v * yc[i];
        const g = p * d;
        for (let q = p; q < d; q++) gram[g + q] += v * data[row + q];
      }
    }
    for (let p = 0; p < d; p++) for (let q = 0; q < p; q++) gram[p * d + q] = gram[q * d + p];
    return lambdas.map((lambda) => {
      const a = Float64Array.from(gram);
      for (let p = 0; p < d; p++) a[p * d + p] += lambda;
      return { weights: choleskySolve(a, d, xty), intercept: yMean, lambda };
    });
  }

  const kernel = new Float64Array(n * n);
  for (let i = 0; i < n; i++)
    for (let j = i; j < n; j++) {
      let s = 0;
      for (let p = 0; p < d; p++) s += data[i * d + p] * data[j * d + p];
      kernel[i * n + j] = kernel[j * n + i] = s;
    }
  return lambdas.map((lambda) => {
    const a = Float64Array.from(kernel);
    for (let i = 0; i < n; i++) a[i * n + i] += lambda;
    const alpha = choleskySolve(a, n, yc);
    const weights = new Float64Array(d);
    for (let i = 0; i < n; i++) for (let p = 0; p < d; p++) weights[p] += data[i * d + p] * alpha[i];
    return { weights, intercept: yMean, lambda };
  });
}

export function predictLinear(model: LinearRegressor, x: Matrix): Float64Array {
  const out = new Float64Array(x.rows);
  for (let i = 0; i < x.rows; i++) {
    let s = model.intercept;
    for (let p = 0; p < x.cols; p++) s += model.weights[p] * x.data[i * x.cols + p];
    out[i] = s;
  }
  return out;
}
