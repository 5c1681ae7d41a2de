import { inputError, type ErrorWhere } from '../../errors.ts';
import { integerField, readRecords, stringField, type LocatedRecord } from '../records-file.ts';
import type { ResponseRecord } from '../staged-run.ts';

/** One ConceptMath question (the published files' record format). */
export interface ConceptMathItem {
  /** unique within a run: `<grade>:<idx>`, with `#n` appended to repeated idx (element_en repeats 603) */
  key: string;
  idx: number;
  cate0: string;
  cate1: string;
  cate2: string;
  question: string;
  /** gold answer as text (EN files mix strings and numbers) */
  answer: string;
  /** the system the item belongs to: element_en, element_zh, middle_en, middle_zh (or a user's own id) */
  grade: string;
}

export const SYSTEM_NAMES: Record<string, string> = {
  element_en: 'Elementary-EN',
  middle_en: 'Middle-EN',
  element_zh: 'Elementary-ZH',
  middle_zh: 'Middle-ZH',
};

export const systemName = (grade: string) => SYSTEM_NAMES[grade] ?? grade;

/** Chinese systems get Chinese prompts; a grade ending in `_zh` (or a question in CJK) is Chinese. */
export function isChinese(item: Pick<ConceptMathItem, 'grade' | 'question'>): boolean {
  return /_zh$/i.test(item.grade) || (!/_en$/i.test(item.grade) && /[\u4e00-\u9fff]/.test(item.question));
}

/**
 * The gold answer as the reference reads it, `str()` of the JSON value: six element_en answers
 * are NaN, which is "nan" there, never close to any number, so those items always count as wrong.
 */
function goldAnswer(record: LocatedRecord): string {
  const v = record.value.answer;
  if (typeof v === 'number' && !Number.isFinite(v)) return Number.isNaN(v) ? 'nan' : v > 0 ? 'inf' : '-inf';
  return stringField(record, 'answer', { allowNumber: true });
}

function parseItem(record: LocatedRecord): Omit<ConceptMathItem, 'key'> {
  return {
    idx: integerField(record, 'idx'),
    cate0: stringField(record, 'cate0'),
    cate1: stringField(record, 'cate1'),
    cate2: stringField(record, 'cate2'),
    question: stringField(record, 'question'),
    answer: goldAnswer(record),
    grade: stringField(record, 'grade'),
  };
}

function withKeys<T extends Omit<ConceptMathItem, 'key'>>(items: T[]): (T & { key: string })[] {
  const seen = new Map<string, number>();
  return items.map((item) => {
    const base = `${item.grade}:${item.idx}`;
    const n = (seen.get(base) ?? 0) + 1;
    seen.set(base, n);
    return { ...item, key: n === 1 ? base : `${base}#${n}` };
  });
}

/** Reads one or more ConceptMath files; a record with a missing field names the file, line and field. */
export function loadConceptMath(paths: readonly string[]): ConceptMathItem[] {
  const items = withKeys(paths.flatMap((p) => readRecords(p, PYTHON_JSON).map(parseItem)));
  if (items.length === 0) throw inputError('no items in the ConceptMath data', { file: paths.join(', ') });
  return items;
}

/** The published files were written by Python's json module, which writes NaN (and reads it back). */
const PYTHON_JSON = { nonFinite: true };

/** An item's identity across files: idx alone is not unique (element_en repeats 603), idx with the question is. */
const identity = (item: Pick<ConceptMathItem, 'grade' | 'idx' | 'question'>) =>
  `${item.grade}\u0000${item.idx}\u0000${item.question}`;

/**
 * Reads model outputs in ConceptMath's format (the record plus `response`). Without `benchmark`
 * the outputs are the benchmark (the file alone is enough to score); with it (--data), every
 * output must answer one of its items, and the items are the benchmark's, so unanswered ones
 * count as missing. A second answer to an item, or an empty file, is an error naming the file.
 */
export function loadConceptMathResponses(
  paths: readonly string[],
  benchmark?: readonly ConceptMathItem[],
): {
  items: ConceptMathItem[];
  responses: Map<string, ResponseRecord>;
} {
  const rows = paths.flatMap((p) =>
    readRecords(p, PYTHON_JSON).map((record) => ({
      item: parseItem(record),
      response: stringField(record, 'response'),
      where: record.where,
    })),
  );
  if (rows.length === 0) throw inputError('no responses in the file', { file: paths.join(', ') });
  const answered = new Map<string, ErrorWhere>();
  for (const { item, where } of rows) {
    const first = answered.get(identity(item));
    if (first)
      throw inputError(
        `a second response to ${item.grade} idx ${item.idx} (the first is at ${first.file}${first.line ? ` line ${first.line}` : ''})`,
        where,
      );
    answered.set(identity(item), where);
  }
  if (!benchmark) {
    const items = withKeys(rows.map((r) => r.item));
    return {
      items,
      responses: new Map(items.map((item, i) => [item.key, { key: item.key, response: rows[i].response }])),
    };
  }
  const byIdentity = new Map(benchmark.map((item) => [identity(item), item]));
  const responses = new Map<string, ResponseRecord>();
  for (const { item, response, where } of rows) {
    const match = byIdentity.get(identity(item));
    if (!match)
      throw inputError(
        `${item.grade} idx ${item.idx} with this question is not an item of the benchmark given with --data`,
        where,
      );
    responses.set(match.key, { key: match.key, response });
  }
  return { items: [...benchmark], responses };
}
