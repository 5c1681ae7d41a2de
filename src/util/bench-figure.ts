/** One benchmark figure, printed by `alignkit bench` (never asserted in tests). */
export interface Figure {
  name: string;
  value: number;
  unit: string;
  /** what it is compared with, and the ratio (> 1 = alignkit / the measured path is better) */
  reference?: { name: string; value: number; ratio: number };
  /** the goal the figure is held to, as a person reads it (e.g. "≥ 3×", "≤ 10 %") */
  target?: string;
}

export const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Fastest wall time of `reps` calls in ms, after one untimed warm-up call: on a shared machine the figure least disturbed by other work. */
export async function fastestMs(fn: () => Promise<unknown>, reps: number): Promise<number> {
  await fn();
  let best = Infinity;
  for (let i = 0; i < reps; i++) {
    const t = performance.now();
    await fn();
    best = Math.min(best, performance.now() - t);
  }
  return best;
}

/** Median wall time of `reps` calls in ms (after one untimed warm-up call unless `warmup` is false). */
export async function medianMs(fn: () => Promise<unknown>, reps: number, warmup = true): Promise<number> {
  if (warmup) await fn();
  const times: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t = performance.now();
    await fn();
    times.push(performance.now() - t);
  }
  return median(times);
}

/** A peak-RSS figure in MB held against a memory budget (ratio > 1: within it). */
export function peakRssFigure(name: string, peakBytes: number, budget: { name: string; bytes: number }): Figure {
  return {
    name,
    value: peakBytes / 1e6,
    unit: 'MB',
    reference: { name: budget.name, value: Math.round(budget.bytes / 1e6), ratio: budget.bytes / peakBytes },
  };
}
