import { linearTickFormatter, logTickLabel } from './format-number.ts';

/** A numeric axis: its domain, the ticks drawn on it and where a value falls (0 at min, 1 at max). */
export interface Scale {
  min: number;
  max: number;
  ticks: number[];
  log: boolean;
  fraction(v: number): number;
  label(v: number): string;
}

export interface ScaleOptions {
  log?: boolean;
  /** a range the domain always covers; when it holds every value, the domain is exactly this range */
  range?: [number, number];
  includeZero?: boolean;
  /** about how many ticks to aim for */
  tickCount?: number;
  /** widen the data's extent by this fraction on each side before rounding, so points don't sit on the frame */
  pad?: number;
}

const clean = (v: number) => +v.toPrecision(12);

/** A round step near span/target: 1, 2 or 5 times a power of ten, whichever is nearest on a log scale. */
export function niceStep(span: number, target: number): number {
  const raw = span / Math.max(1, target);
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const normalized = raw / magnitude;
  const factor =
    normalized >= Math.sqrt(50) ? 10 : normalized >= Math.sqrt(10) ? 5 : normalized >= Math.sqrt(2) ? 2 : 1;
  return clean(factor * magnitude);
}

/**
 * A scale covering `values` (non-finite ones ignored; on a log scale, also those ≤ 0).
 * Undefined when no value is left to draw.
 */
export function makeScale(values: number[], options: ScaleOptions = {}): Scale | undefined {
  const usable = values.filter((v) => Number.isFinite(v) && (!options.log || v > 0));
  if (usable.length === 0) return undefined;
  const lo = usable.reduce((a, b) => Math.min(a, b));
  const hi = usable.reduce((a, b) => Math.max(a, b));
  return options.log ? logScale(lo, hi) : linearScale(lo, hi, options);
}

function linearScale(lo: number, hi: number, options: ScaleOptions): Scale {
  const range =
    options.range && options.range.every(Number.isFinite) && options.range[0] < options.range[1]
      ? options.range
      : undefined;
  const fixed = range !== undefined && lo >= range[0] && hi <= range[1];
  if (options.pad && hi > lo && !fixed) {
    // padding never crosses zero: a value of exactly 0 stays on the baseline
    const pad = (hi - lo) * options.pad;
    lo = lo >= 0 ? Math.max(0, lo - pad) : lo - pad;
    hi = hi <= 0 ? Math.min(0, hi + pad) : hi + pad;
  }
  if (range) {
    lo = Math.min(lo, range[0]);
    hi = Math.max(hi, range[1]);
  }
  if (options.includeZero) {
    lo = Math.min(lo, 0);
    hi = Math.max(hi, 0);
  }
  if (lo === hi) {
    const pad = lo === 0 ? 1 : Math.abs(lo) * 0.1;
    lo -= pad;
    hi += pad;
  }
  const step = niceStep(hi - lo, options.tickCount ?? 5);
  const min = fixed ? lo : clean(Math.floor(lo / step + 1e-9) * step);
  const max = fixed ? hi : clean(Math.ceil(hi / step - 1e-9) * step);
  const ticks: number[] = [];
  for (let i = Math.ceil(min / step - 1e-9); i * step <= max + step * 1e-9; i++) ticks.push(clean(i * step));
  const format = linearTickFormatter(ticks, step);
  return { min, max, ticks, log: false, fraction: (v) => (v - min) / (max - min), label: format };
}

/** The nearest of 1, 2, 5 × 10^k at or below (down) or at or above (up) v. */
function niceLogBound(v: number, direction: 'down' | 'up'): number {
  const e = Math.floor(Math.log10(v) + 1e-9);
  const candidates = [1, 2, 5, 10].map((m) => clean(m * 10 ** e));
  return direction === 'down'
    ? candidates.filter((c) => c <= v * (1 + 1e-9)).pop()!
    : candidates.find((c) => c >= v * (1 - 1e-9))!;
}

function logScale(lo: number, hi: number): Scale {
  let min = niceLogBound(lo, 'down');
  let max = niceLogBound(hi, 'up');
  if (min === max) {
    min = niceLogBound(min * 0.99, 'down');
    max = niceLogBound(max * 1.01, 'up');
  }
  const first = Math.floor(Math.log10(min) + 1e-9);
  const last = Math.ceil(Math.log10(max) - 1e-9);
  const decades = last - first;
  const multiples = decades <= 3 ? [1, 2, 5] : [1];
  const stride = Math.ceil(decades / 8);
  const ticks: number[] = [];
  for (let e = first; e <= last; e += stride) {
    for (const m of multiples) {
      const t = clean(m * 10 ** e);
      if (t >= min * (1 - 1e-9) && t <= max * (1 + 1e-9)) ticks.push(t);
    }
  }
  const span = Math.log10(max) - Math.log10(min);
  return { min, max, ticks, log: true, fraction: (v) => (Math.log10(v) - Math.log10(min)) / span, label: logTickLabel };
}
