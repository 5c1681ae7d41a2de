import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { appendWhole } from './atomic-write.ts';
import { inputError } from '../errors.ts';
import { readTextFile } from './data-file.ts';

export interface JsonlOptions {
  /**
   * Accept NaN, Infinity and -Infinity as numbers, as Python's json module reads and writes
   * them: for data published by Python code (ConceptMath's answers hold NaN).
   */
  nonFinite?: boolean;
}

/** Reads a JSONL file (optionally .gz); a malformed line throws naming the file and line. Blank lines are skipped. */
export function readJsonl<T = unknown>(path: string, options: JsonlOptions = {}): { value: T; line: number }[] {
  const text = readTextFile(path);
  const out: { value: T; line: number }[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (!line) continue;
    try {
      out.push({ value: (options.nonFinite ? parsePythonJson(line) : JSON.parse(line)) as T, line: i + 1 });
    } catch (e) {
      throw inputError(`malformed JSON (${(e as Error).message})`, { file: path, line: i + 1 });
    }
  }
  return out;
}

const NON_FINITE: Record<string, number> = { NaN: NaN, Infinity: Infinity, '-Infinity': -Infinity };

/**
 * JSON with Python's extra number literals NaN, Infinity and -Infinity (outside strings). They
 * become marker strings (a NUL, then the literal) that the reviver turns into numbers.
 */
export function parsePythonJson(text: string): unknown {
  let out = '';
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      out += c;
      if (c === '\\') out += text[++i] ?? '';
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') inString = true;
    const literal = ['-Infinity', 'Infinity', 'NaN'].find((l) => text.startsWith(l, i));
    if (literal) {
      out += `"\\u0000${literal}"`;
      i += literal.length - 1;
    } else out += c;
  }
  return JSON.parse(out, (_, value) =>
    typeof value === 'string' && value.startsWith('\u0000') && value.slice(1) in NON_FINITE
      ? NON_FINITE[value.slice(1)]
      : value,
  );
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
  appendWhole(path, JSON.stringify(value) + '\n');
}
