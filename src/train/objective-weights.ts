/**
 * MODPO preference weights (notes §2.1): a point w on the simplex, one weight per objective.
 * w[0] = w_k is the objective whose preference data is trained on; w[1..] weigh the margin
 * reward models, in the order they are given.
 */
import { inputError } from '../errors.ts';

export interface ObjectiveWeights {
  /** w_k, the weight of the trained objective (> 0: the loss divides by it) */
  trained: number;
  /** w_{-k}, one per margin reward model */
  margins: number[];
}

const SUM_TOLERANCE = 1e-6;

/** The full vector [w_k, w_{-k}...]. */
export const weightVector = (w: ObjectiveWeights): number[] => [w.trained, ...w.margins];

/**
 * Validates a weight vector for `marginCount` margin models: one weight per objective, each in
 * [0, 1], summing to 1, and w_k > 0 (w_k = 0 is the margin model itself, not a MODPO run).
 */
export function checkWeights(values: readonly number[], marginCount: number, field = 'weights'): ObjectiveWeights {
  const shown = values.join(',');
  if (values.length !== marginCount + 1)
    throw inputError(
      `expected ${marginCount + 1} weights (the trained objective, then one per margin model; ${marginCount} margin model${marginCount === 1 ? '' : 's'} given), got ${values.length} (${shown})`,
      { field },
    );
  values.forEach((v) => {
    if (!Number.isFinite(v) || v < 0 || v > 1)
      throw inputError(`every weight must be a number in [0, 1], got ${v} in ${shown}`, { field });
  });
  const sum = values.reduce((a, b) => a + b, 0);
  if (Math.abs(sum - 1) > SUM_TOLERANCE)
    throw inputError(`weights must sum to 1 (they are a point on the simplex), got ${shown} = ${+sum.toFixed(9)}`, {
      field,
    });
  if (values[0] === 0)
    throw inputError(
      `the first weight (the trained objective's) must be > 0: the MODPO loss divides by it; the w=0 end of a front is the margin model itself`,
      { field },
    );
  return { trained: values[0], margins: values.slice(1) };
}

/** "0.2,0.8" → weights. */
export function parseWeights(text: string, marginCount: number, field = 'weights'): ObjectiveWeights {
  const parts = text.split(',').map((s) => s.trim());
  const values = parts.map((s) => {
    const v = s === '' ? NaN : Number(s);
    if (!Number.isFinite(v)) throw inputError(`expected comma-separated numbers, got "${s}" in "${text}"`, { field });
    return v;
  });
  return checkWeights(values, marginCount, field);
}

/**
 * The weights of a sweep: "START:END:STEP" over w_k with one margin model (w = (w_k, 1 − w_k)),
 * or explicit vectors separated by ";" ("0.2,0.8;0.5,0.5"). A range point at w_k = 0 is dropped
 * (no MODPO run exists there) and reported in `dropped`.
 */
export function parseWeightSweep(
  text: string,
  marginCount: number,
  field = 'weights',
): { weights: ObjectiveWeights[]; dropped: number[] } {
  const range = /^\s*([^:]+):([^:]+):([^:]+)\s*$/.exec(text);
  if (!range) return { weights: text.split(';').map((v) => parseWeights(v, marginCount, field)), dropped: [] };
  if (marginCount !== 1)
    throw inputError(
      `a START:END:STEP range sweeps two objectives (one margin model), ${marginCount} given; list the vectors instead, e.g. "0.2,0.4,0.4;0.6,0.2,0.2"`,
      { field },
    );
  const [start, end, step] = range.slice(1).map(Number);
  if (![start, end, step].every(Number.isFinite) || step <= 0 || start < 0 || end > 1 || start > end)
    throw inputError(`expected START:END:STEP with 0 ≤ START ≤ END ≤ 1 and STEP > 0, got "${text}"`, { field });
  const count = Math.floor((end - start) / step + 1e-9) + 1;
  const points = Array.from({ length: count }, (_, i) => +(start + i * step).toFixed(10));
  const dropped = points.filter((p) => p === 0);
  return {
    weights: points.filter((p) => p > 0).map((p) => checkWeights([p, +(1 - p).toFixed(10)], 1, field)),
    dropped,
  };
}
