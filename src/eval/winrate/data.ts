import { createHash } from 'node:crypto';
import { inputError } from '../../errors.ts';
import { fieldAt, readRecords, stringField, type LocatedRecord } from '../records-file.ts';
import type { ResponseRecord } from '../staged-run.ts';

/** One instruction with the baseline's output (AlpacaEval's outputs format). */
export interface WinrateExample {
  key: string;
  /** 0-based position in the baseline file (AlpacaEval's instruction index) */
  index: number;
  instruction: string;
  baseline: string;
  baselineGenerator?: string;
  /** per-instruction difficulty, if the file carries `instruction_difficulty` or `difficulty` */
  difficulty?: number;
}

/** Output lengths as AlpacaEval measures them: Python's len, i.e. Unicode code points (not UTF-16 units). */
export function codePointLength(text: string): number {
  let n = 0;
  for (const _ of text) n++;
  return n;
}

/** Outputs are matched to instructions by the instruction text (repeats are numbered in order). */
export function keyer() {
  const seen = new Map<string, number>();
  return (instruction: string) => {
    const h = createHash('sha256').update(instruction).digest('hex').slice(0, 16);
    const n = (seen.get(h) ?? 0) + 1;
    seen.set(h, n);
    return n === 1 ? h : `${h}#${n}`;
  };
}

/** The output text of a record: `output` (AlpacaEval) or `response`. */
function outputOf(record: LocatedRecord): string {
  return stringField(
    record,
    record.value.output === undefined && record.value.response !== undefined ? 'response' : 'output',
  );
}

export function difficultyOf(record: LocatedRecord): number | undefined {
  for (const field of ['instruction_difficulty', 'difficulty']) {
    const v = record.value[field];
    if (v === undefined || v === null) continue;
    if (typeof v !== 'number' || !Number.isFinite(v))
      throw inputError(`expected a number, got ${JSON.stringify(v)}`, fieldAt(record, field));
    return v;
  }
  return undefined;
}

/** Reads the baseline outputs: JSON array or JSONL of {instruction, output, generator?, instruction_difficulty?}. */
export function loadBaselineOutputs(path: string): WinrateExample[] {
  const key = keyer();
  return readRecords(path).map((record, index) => {
    const instruction = stringField(record, 'instruction');
    const generator = record.value.generator;
    return {
      key: key(instruction),
      index,
      instruction,
      baseline: outputOf(record),
      ...(typeof generator === 'string' ? { baselineGenerator: generator } : {}),
      ...(difficultyOf(record) !== undefined ? { difficulty: difficultyOf(record) } : {}),
    };
  });
}

/** Reads a model's outputs in the same format, keyed like the baseline's. */
export function loadModelOutputs(path: string): Map<string, ResponseRecord> {
  const key = keyer();
  const out = new Map<string, ResponseRecord>();
  for (const record of readRecords(path)) {
    const k = key(stringField(record, 'instruction'));
    const generator = record.value.generator;
    out.set(k, { key: k, response: outputOf(record), ...(typeof generator === 'string' ? { generator } : {}) });
  }
  return out;
}
