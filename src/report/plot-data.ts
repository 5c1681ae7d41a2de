import type { Series } from '../run/summary.ts';
import { formatValue } from './format-number.ts';

/** A point's value as drawn: NaN when it is missing or not a finite number (JSON stores NaN as null). */
export function drawableY(y: unknown): number {
  return typeof y === 'number' && Number.isFinite(y) ? y : NaN;
}

export function categoryLabel(x: unknown): string {
  return typeof x === 'number' ? formatValue(x) : String(x);
}

/** Every category of the series, in order of first appearance. */
export function categoriesOf(series: Series[]): string[] {
  const seen = new Set<string>();
  for (const s of series) for (const [x] of s.points) seen.add(categoryLabel(x));
  return [...seen];
}

/** A series' value per category (the first point given for it), NaN where it has none. */
export function valuesByCategory(series: Series, categories: string[]): number[] {
  const byLabel = new Map<string, number>();
  for (const [x, y] of series.points) {
    const key = categoryLabel(x);
    if (!byLabel.has(key)) byLabel.set(key, drawableY(y));
  }
  return categories.map((c) => byLabel.get(c) ?? NaN);
}

/** The error bar half-width of point `i` of a series: 0 when it has none. */
export function errorOf(series: Series, i: number): number {
  const e = series.errors?.[i];
  return typeof e === 'number' && Number.isFinite(e) && e > 0 ? e : 0;
}

/** A series' error per category (of the point valuesByCategory took), 0 where it has none. */
export function errorsByCategory(series: Series, categories: string[]): number[] {
  const byLabel = new Map<string, number>();
  series.points.forEach(([x], i) => {
    const key = categoryLabel(x);
    if (!byLabel.has(key)) byLabel.set(key, errorOf(series, i));
  });
  return categories.map((c) => byLabel.get(c) ?? 0);
}

/** The values an axis must show: each value, and its error bar's ends. */
export const withErrorEnds = (values: readonly number[], errors: readonly number[]): number[] =>
  values.flatMap((v, i) => (errors[i] > 0 ? [v, v - errors[i], v + errors[i]] : [v]));

/** How many drawable values a plot holds; 0 means it is drawn as "no data". */
export function countDrawable(series: Series[]): number {
  let n = 0;
  for (const s of series) for (const [, y] of s.points) if (Number.isFinite(drawableY(y))) n++;
  return n;
}
