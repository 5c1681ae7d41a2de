import type { Table } from '../run/summary.ts';
import type { JudgeFailure } from './judge.ts';

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
