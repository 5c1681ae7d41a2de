/** One benchmark figure, printed by `alignkit bench` (never asserted in tests). */
export interface Figure {
  name: string;
  value: number;
  unit: string;
  /** what it is compared with, and the ratio (> 1 = alignkit / the measured path is better) */
  reference?: { name: string; value: number; ratio: number };
}

export const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
