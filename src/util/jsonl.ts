import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { inputError } from '../errors.ts';

/** Reads a JSONL file (optionally .gz); a malformed line throws naming the file and line. Blank lines are skipped. */
export function readJsonl<T = unknown>(path: string): { value: T; line: number }[] {
  if (!existsSync(path)) throw inputError('file not found', { file: path });
  const raw = readFileSync(path);
  const text = (path.endsWith('.gz') ? gunzipSync(raw) : raw).toString('utf8');
  const out: { value: T; line: number }[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (!line) continue;
    try {
      out.push({ value: JSON.parse(line) as T, line: i + 1 });
    } catch (e) {
      throw inputError(`malformed JSON (${(e as Error).message})`, { file: path, line: i + 1 });
    }
  }
  return out;
}

/**
 * Reads the finished records of a results JSONL written by appendJsonl. A torn last line
 * (the process was killed mid-write) is dropped and the file truncated to the good part.
 */
export function readJsonlForResume<T = unknown>(path: string): T[] {
  if (!existsSync(path)) return [];
  const text = readFileSync(path, 'utf8');
  const lines = text.split('\n');
  const good: T[] = [];
  let goodBytes = 0;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    const isLast = i === lines.length - 1;
    if (isLast && line === '') break;
    try {
      good.push(JSON.parse(line) as T);
      goodBytes += Buffer.byteLength(line) + 1;
    } catch (e) {
      if (isLast) break; // torn final write
      throw inputError(`malformed JSON (${(e as Error).message})`, { file: path, line: i + 1 });
    }
  }
  if (goodBytes !== Buffer.byteLength(text))
    writeFileSync(
      path,
      lines
        .slice(0, good.length)
        .map((l) => l + '\n')
        .join(''),
    );
  return good;
}

/** Appends one record as a line (one write call, so a kill leaves at most one torn line). */
export function appendJsonl(path: string, value: unknown): void {
  appendFileSync(path, JSON.stringify(value) + '\n');
}
