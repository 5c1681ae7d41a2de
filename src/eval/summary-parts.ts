import type { Summary, Table } from '../run/summary.ts';
import type { JudgeFailure } from './judge.ts';
import type { GenerationFailure } from './staged-run.ts';

export const round = (x: number | null | undefined, digits = 2): number | null =>
  x === null || x === undefined || !Number.isFinite(x) ? null : Math.round(x * 10 ** digits) / 10 ** digits;

export const percent = (x: number | null | undefined, digits = 1) =>
  x === null || x === undefined ? null : round(100 * x, digits);

const clip = (s: string, n: number) => (s.length > n ? `${s.slice(0, n)}…` : s);

/** The table that lists every recorded judge failure (never dropped silently). */
export function failuresTable(failures: readonly JudgeFailure[]): Table {
  return {
    title: `Judge failures (${failures.length})`,
    columns: ['item', 'error', 'last judge output'],
    rows: failures.map((f) => [f.key, f.error, clip(f.raws.at(-1) ?? '', 200)]),
    note: failures.length
      ? 'These items have no score; they are excluded from the means above and counted here.'
      : 'none',
  };
}

/** The table that lists every item whose response could not be generated (e.g. its prompt does not fit the model). */
export function generationFailuresTable(failed: readonly GenerationFailure[]): Table {
  return {
    title: `Generation failures (${failed.length})`,
    columns: ['item', 'error'],
    rows: failed.map((f) => [f.key, clip(f.error, 300)]),
    note: failed.length
      ? 'These items have no response and no score; they are counted here, not in the means.'
      : 'none',
  };
}

/** A summary with its generation failures counted in the metrics and listed in a table (when there are any). */
export function withGenerationFailures(summary: Summary, failed: readonly GenerationFailure[]): Summary {
  if (!failed.length) return summary;
  return {
    ...summary,
    metrics: { ...summary.metrics, generation_failures: failed.length },
    tables: [...summary.tables, generationFailuresTable(failed)],
  };
}
