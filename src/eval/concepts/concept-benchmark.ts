/**
 * The concept-labelled benchmark of `improve` and `concepts`: ConceptMath's released files, or
 * a user's own files in the same record format ({idx, cate0, cate1, cate2, question, answer, grade}).
 */
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { inputError } from '../../errors.ts';
import { loadConceptMath, SYSTEM_NAMES, type ConceptMathItem } from '../conceptmath/data.ts';

const CONCEPTMATH_HINT =
  'ConceptMath is not redistributable: get dataset/{element_en,element_zh,middle_en,middle_zh}.jsonl from github.com/conceptmath/conceptmath and pass --data DIR (or the files)';

/** The files of `--eval conceptmath --data DIR|FILE...`: a directory holds the four released files (those present). */
export function conceptMathFiles(data: readonly string[]): string[] {
  if (!data.length) throw inputError(`--eval conceptmath needs --data. ${CONCEPTMATH_HINT}`, { field: '--data' });
  return data.flatMap((p) => {
    if (!existsSync(p)) throw inputError(`not found. ${CONCEPTMATH_HINT}`, { file: p });
    if (!statSync(p).isDirectory()) return [p];
    const files = Object.keys(SYSTEM_NAMES)
      .map((g) => join(p, `${g}.jsonl`))
      .filter((f) => existsSync(f));
    if (!files.length)
      throw inputError(
        `no ConceptMath files (${Object.keys(SYSTEM_NAMES)
          .map((g) => `${g}.jsonl`)
          .join(', ')}) in this directory. ${CONCEPTMATH_HINT}`,
        { file: p },
      );
    return files;
  });
}

export interface BenchmarkSelection {
  /** "conceptmath" or the benchmark files */
  eval: readonly string[];
  /** with "conceptmath": the dataset directory or files */
  data?: readonly string[];
  /** keep only these systems (grades), e.g. middle_en */
  systems?: readonly string[];
  /** the first N items of each system */
  limit?: number;
}

export function loadConceptBenchmark(s: BenchmarkSelection): ConceptMathItem[] {
  if (!s.eval.length) throw inputError('missing --eval conceptmath|FILE', { field: '--eval' });
  const files = s.eval.length === 1 && s.eval[0] === 'conceptmath' ? conceptMathFiles(s.data ?? []) : [...s.eval];
  let items = loadConceptMath(files);
  if (s.systems?.length) {
    const present = new Set(items.map((i) => i.grade));
    const missing = s.systems.filter((g) => !present.has(g));
    if (missing.length)
      throw inputError(`no items of system ${missing.join(', ')} (the benchmark has: ${[...present].join(', ')})`, {
        field: '--systems',
      });
    items = items.filter((i) => s.systems!.includes(i.grade));
  }
  if (s.limit !== undefined) {
    const seen = new Map<string, number>();
    items = items.filter((i) => {
      const n = (seen.get(i.grade) ?? 0) + 1;
      seen.set(i.grade, n);
      return n <= s.limit!;
    });
  }
  if (!items.length) throw inputError('the benchmark has no items', { field: '--eval' });
  return items;
}
