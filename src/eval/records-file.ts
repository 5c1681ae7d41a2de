import { existsSync, readFileSync } from 'node:fs';
import { inputError, type ErrorWhere } from '../errors.ts';
import { readJsonl } from '../util/jsonl.ts';

/** A record of a JSONL (.jsonl, .jsonl.gz) or JSON-array (.json) file, with where it came from. */
export interface LocatedRecord {
  value: Record<string, unknown>;
  where: ErrorWhere;
}

/** Reads object records; a line (or array element) that is not an object is an error naming it. */
export function readRecords(path: string): LocatedRecord[] {
  if (!existsSync(path)) throw inputError('file not found', { file: path });
  let rows: { value: unknown; where: ErrorWhere }[];
  if (path.endsWith('.json')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(path, 'utf8'));
    } catch (e) {
      throw inputError(`malformed JSON (${(e as Error).message})`, { file: path });
    }
    if (!Array.isArray(parsed)) throw inputError('expected a JSON array of records', { file: path });
    rows = parsed.map((value, i) => ({ value, where: { file: path, field: `[${i}]` } }));
  } else {
    rows = readJsonl(path).map(({ value, line }) => ({ value, where: { file: path, line } }));
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
