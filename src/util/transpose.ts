/** The transpose of a row-major [rows, cols] float32 matrix: a new [cols, rows] matrix. */
export function transposeMatrix(data: Float32Array, rows: number, cols: number): Float32Array {
  if (data.length !== rows * cols)
    throw new RangeError(`transposeMatrix: ${data.length} values for [${rows}, ${cols}]`);
  const out = new Float32Array(data.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = data[r * cols + c];
  return out;
}
