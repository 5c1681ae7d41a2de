/** A dense row-major float32 matrix: items × features. */
export interface Matrix {
  rows: number;
  cols: number;
  data: Float32Array;
}

export function matrix(rows: number, cols: number, data = new Float32Array(rows * cols)): Matrix {
  if (data.length !== rows * cols)
    throw new RangeError(`matrix data has ${data.length} values, expected ${rows}×${cols}`);
  return { rows, cols, data };
}

export function selectRows(m: Matrix, indices: readonly number[]): Matrix {
  const out = new Float32Array(indices.length * m.cols);
  for (let k = 0; k < indices.length; k++)
    out.set(m.data.subarray(indices[k] * m.cols, (indices[k] + 1) * m.cols), k * m.cols);
  return matrix(indices.length, m.cols, out);
}

export function selectValues<T extends Float64Array | Int32Array>(values: T, indices: readonly number[]): T {
  const out = new (values.constructor as new (n: number) => T)(indices.length);
  for (let k = 0; k < indices.length; k++) out[k] = values[indices[k]];
  return out;
}

/** Builds a matrix from equally long rows. */
export function fromRows(rows: readonly ArrayLike<number>[]): Matrix {
  const cols = rows.length ? rows[0].length : 0;
  const m = matrix(rows.length, cols);
  rows.forEach((r, i) => m.data.set(r, i * cols));
  return m;
}
