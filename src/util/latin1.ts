/** Bytes as a string of one char per byte (Buffer's 'latin1'), without Node's Buffer. */
export function latin1(bytes: Uint8Array): string {
  let out = '';
  // fromCharCode takes its bytes as arguments: a piece at a time stays under the engine's argument limit
  for (let i = 0; i < bytes.length; i += 8192) out += String.fromCharCode(...bytes.subarray(i, i + 8192));
  return out;
}
