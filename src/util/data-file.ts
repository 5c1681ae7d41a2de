import { gunzipSync, readFileSync, statSync } from './io.ts';
import { inputError } from '../errors.ts';

/**
 * Reads a data file as text, `.gz` decompressed. Every way this can fail (missing, a directory,
 * unreadable, not gzip) is an error that names the file.
 */
export function readTextFile(path: string): string {
  let bytes: Uint8Array;
  try {
    if (statSync(path).isDirectory()) throw inputError('is a directory; expected a file', { file: path });
    bytes = readFileSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw inputError('file not found', { file: path });
    if (code === undefined) throw e;
    throw inputError(`cannot read the file (${code})`, { file: path });
  }
  if (path.endsWith('.gz')) {
    try {
      bytes = gunzipSync(bytes);
    } catch (e) {
      throw inputError(`not a gzip file, though named .gz (${(e as Error).message})`, { file: path });
    }
  }
  // as Buffer's toString: a byte-order mark is kept, bad bytes become U+FFFD
  return new TextDecoder('utf-8', { ignoreBOM: true }).decode(bytes);
}

/** Parses a JSON file; malformed JSON names the file. */
export function readJsonFile<T = unknown>(path: string): T {
  const text = readTextFile(path);
  try {
    return JSON.parse(text) as T;
  } catch (e) {
    throw inputError(`malformed JSON (${(e as Error).message})`, { file: path });
  }
}
