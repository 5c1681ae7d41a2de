/**
 * The transpose of a row-major [rows, cols] float32 matrix: [cols, rows], written into `into`
 * when given (its first rows·cols values; a caller transposing many matrices in turn reuses one
 * buffer: on the VMs measured here the first touch of fresh memory costs ~14 ms per MB, far
 * more than the transpose itself).
 */
export function transposeMatrix(data: Float32Array, rows: number, cols: number, into?: Float32Array): Float32Array {
  if (data.length !== rows * cols)
    throw new RangeError(`transposeMatrix: ${data.length} values for [${rows}, ${cols}]`);
  if (into && into.length < data.length)
    throw new RangeError(`transposeMatrix: a buffer of ${into.length} values for [${rows}, ${cols}]`);
  const out = into ? into.subarray(0, data.length) : new Float32Array(data.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = data[r * cols + c];
  return out;
}
