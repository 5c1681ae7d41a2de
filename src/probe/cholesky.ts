import { AlignkitError } from '../errors.ts';

/**
 * Solves A x = b for a symmetric positive definite n×n A (row-major, float64) by Cholesky
 * factorisation. A is left untouched; b may hold several right-hand sides (n × k).
 */
export function choleskySolve(a: Float64Array, n: number, b: Float64Array, k = 1): Float64Array {
  const l = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let s = a[i * n + j];
      const li = i * n,
        lj = j * n;
      for (let p = 0; p < j; p++) s -= l[li + p] * l[lj + p];
      if (i === j) {
        if (!(s > 0))
          throw new AlignkitError(
            'numeric',
            `matrix is not positive definite (pivot ${i} = ${s}); increase the regularization`,
          );
        l[li + i] = Math.sqrt(s);
      } else l[li + j] = s / l[lj + j];
    }
  }
  const x = Float64Array.from(b);
  for (let c = 0; c < k; c++) {
    for (let i = 0; i < n; i++) {
      let s = x[i * k + c];
      for (let p = 0; p < i; p++) s -= l[i * n + p] * x[p * k + c];
      x[i * k + c] = s / l[i * n + i];
    }
    for (let i = n - 1; i >= 0; i--) {
      let s = x[i * k + c];
      for (let p = i + 1; p < n; p++) s -= l[p * n + i] * x[p * k + c];
      x[i * k + c] = s / l[i * n + i];
    }
  }
  return x;
}
