import { matrix, type Matrix } from './matrix.ts';

/**
 * Per-feature z-scoring with statistics of the training rows only (so validation and test
 * data never leak into the probe). Constant features get scale 1 and become 0.
 */
export class Standardizer {
  readonly mean: Float64Array;
  readonly scale: Float64Array;

  private constructor(mean: Float64Array, scale: Float64Array) {
    this.mean = mean;
    this.scale = scale;
  }

  static fit(train: Matrix): Standardizer {
    const { rows, cols, data } = train;
    const mean = new Float64Array(cols),
      sq = new Float64Array(cols);
    for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) mean[j] += data[i * cols + j];
    for (let j = 0; j < cols; j++) mean[j] /= rows;
    for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) sq[j] += (data[i * cols + j] - mean[j]) ** 2;
    const scale = new Float64Array(cols);
    for (let j = 0; j < cols; j++) {
      const sd = Math.sqrt(sq[j] / rows);
      scale[j] = sd > 1e-12 * (1 + Math.abs(mean[j])) ? sd : 1;
    }
    return new Standardizer(mean, scale);
  }

  apply(m: Matrix): Matrix {
    const out = matrix(m.rows, m.cols);
    for (let i = 0; i < m.rows; i++)
      for (let j = 0; j < m.cols; j++)
        out.data[i * m.cols + j] = (m.data[i * m.cols + j] - this.mean[j]) / this.scale[j];
    return out;
  }
}
