/**
 * A number as a run's machine-readable files keep it: full precision (rounding is for tables
 * and the HTML report), null when it is missing or not finite (JSON has no NaN).
 */
export const finiteOrNull = (x: number | null | undefined): number | null =>
  x === null || x === undefined || !Number.isFinite(x) ? null : x;

/** A fraction as a percentage, unrounded (null when missing or not finite). */
export const percentOrNull = (x: number | null | undefined): number | null => {
  const v = finiteOrNull(x);
  return v === null ? null : 100 * v;
};
