import { inputError } from '../../errors.ts';
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

function parseItem(record: LocatedRecord): Omit<ConceptMathItem, 'key'> {
  return {
    idx: integerField(record, 'idx'),
    cate0: stringField(record, 'cate0'),
    cate1: stringField(record, 'cate1'),
    cate2: stringField(record, 'cate2'),
    question: stringField(record, 'question'),
    answer: stringField(record, 'answer', { allowNumber: true }),
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
  return withKeys(paths.flatMap((p) => readRecords(p).map(parseItem)));
}

/**
 * Reads model outputs in ConceptMath's format (the record plus `response`). Returns the items
 * (so the outputs file alone is enough to score) and the responses by key.
 */
export function loadConceptMathResponses(paths: readonly string[]): {
  items: ConceptMathItem[];
  responses: Map<string, ResponseRecord>;
} {
  const rows = paths.flatMap((p) =>
    readRecords(p).map((record) => ({ ...parseItem(record), response: stringField(record, 'response') })),
  );
  const keyed = withKeys(rows);
  const responses = new Map<string, ResponseRecord>();
  for (const r of keyed) {
    if (responses.has(r.key)) throw inputError(`duplicate response for ${r.key}`);
    responses.set(r.key, { key: r.key, response: r.response });
  }
  return { items: keyed.map(({ response: _r, ...item }) => item), responses };
}
