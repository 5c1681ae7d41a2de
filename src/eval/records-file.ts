import { existsSync } from 'node:fs';
import { inputError, type ErrorWhere } from '../errors.ts';
import { readJsonFile, readTextFile } from '../util/data-file.ts';
import { parsePythonJson, readJsonl, type JsonlOptions } from '../util/jsonl.ts';

function readPythonJsonFile(path: string): unknown {
  const text = readTextFile(path);
  try {
    return parsePythonJson(text);
  } catch (e) {
    throw inputError(`malformed JSON (${(e as Error).message})`, { file: path });
  }
}

/** A record of a JSONL (.jsonl, .jsonl.gz) or JSON-array (.json) file, with where it came from. */
export interface LocatedRecord {
  value: Record<string, unknown>;
  where: ErrorWhere;
}

/**
 * Reads object records; a line (or array element) that is not an object is an error naming it.
 * `nonFinite`: NaN and ±Infinity are numbers, as in files Python's json module wrote.
 */
export function readRecords(path: string, options: JsonlOptions = {}): LocatedRecord[] {
  if (!existsSync(path)) throw inputError('file not found', { file: path });
  let rows: { value: unknown; where: ErrorWhere }[];
  if (path.endsWith('.json')) {
    const parsed = options.nonFinite ? readPythonJsonFile(path) : readJsonFile(path);
    if (!Array.isArray(parsed)) throw inputError('expected a JSON array of records', { file: path });
    rows = parsed.map((value, i) => ({ value, where: { file: path, field: `[${i}]` } }));
  } else {
    rows = readJsonl(path, options).map(({ value, line }) => ({ value, where: { file: path, line } }));
  }
  return rows.map(({ value, where }) => {
    if (!value || typeof value !== 'object' || Array.isArray(value)) throw inputError('expected a JSON object', where);
    return { value: value as Record<string, unknown>, where };
  });
}

export const fieldAt = (record: LocatedRecord, field: string) => ({
  ...record.where,
  field: record.where.field ? `${record.where.field}.${field}` : field,
});

/** A required string field; missing or mistyped names the file, line and field. */
export function stringField(record: LocatedRecord, field: string, options: { allowNumber?: boolean } = {}): string {
  const v = record.value[field];
  if (typeof v === 'string') return v;
  if (options.allowNumber && typeof v === 'number' && Number.isFinite(v)) return String(v);
  throw inputError(
    v === undefined ? 'missing field (expected a string)' : `expected a string, got ${JSON.stringify(v)}`,
    fieldAt(record, field),
  );
}

export function integerField(record: LocatedRecord, field: string): number {
  const v = record.value[field];
  if (typeof v === 'number' && Number.isInteger(v)) return v;
  throw inputError(
    v === undefined ? 'missing field (expected an integer)' : `expected an integer, got ${JSON.stringify(v)}`,
    fieldAt(record, field),
  );
}
