/**
 * Probe metrics: Pearson, Spearman (ties get average ranks), Kendall tau-b and R² for
 * regression; accuracy and macro-F1 for classification; and the scores of the chance
 * predictors (the train mean, the train majority class) that every result is read against.
 * Correlations are 0 when either side is constant (no association can be shown).
 */
export type RegressionMetrics = { spearman: number; pearson: number; kendall: number; r2: number };
export type ClassificationMetrics = { accuracy: number; macroF1: number };
export type Metrics = RegressionMetrics | ClassificationMetrics;

type Numbers = ArrayLike<number>;

function mean(a: Numbers): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i];
  return s / a.length;
}

export function pearson(a: Numbers, b: Numbers): number {
  const ma = mean(a),
    mb = mean(b);
  let sab = 0,
    saa = 0,
    sbb = 0;
  for (let i = 0; i < a.length; i++) {
    const da = a[i] - ma,
      db = b[i] - mb;
    sab += da * db;
    saa += da * da;
    sbb += db * db;
  }
  if (saa === 0 || sbb === 0) return 0;
  return sab / Math.sqrt(saa * sbb);
}

/** 1-based ranks; tied values share the average of the ranks they span. */
export function averageRanks(a: Numbers): Float64Array {
  const order = Array.from({ length: a.length }, (_, i) => i).sort((i, j) => a[i] - a[j]);
  const ranks = new Float64Array(a.length);
  for (let start = 0; start < order.length;) {
    let end = start + 1;
    while (end < order.length && a[order[end]] === a[order[start]]) end++;
    const rank = (start + 1 + end) / 2;
    for (let k = start; k < end; k++) ranks[order[k]] = rank;
    start = end;
  }
  return ranks;
}

export function spearman(a: Numbers, b: Numbers): number {
  return pearson(averageRanks(a), averageRanks(b));
}

/** Kendall's tau-b (tie-corrected), O(n²). */
export function kendall(a: Numbers, b: Numbers): number {
  let concordant = 0,
    discordant = 0,
    tiesA = 0,
    tiesB = 0;
  for (let i = 0; i < a.length; i++) {
    for (let j = i + 1; j < a.length; j++) {
      const da = Math.sign(a[i] - a[j]),
        db = Math.sign(b[i] - b[j]);
      if (da === 0 && db === 0) continue;
      if (da === 0) tiesA++;
      else if (db === 0) tiesB++;
      else if (da === db) concordant++;
      else discordant++;
    }
  }
  const denom = Math.sqrt((concordant + discordant + tiesA) * (concordant + discordant + tiesB));
  return denom === 0 ? 0 : (concordant - discordant) / denom;
}

/** Coefficient of determination of `predicted` for `truth` (0 when the truth is constant). */
export function r2(predicted: Numbers, truth: Numbers): number {
  const m = mean(truth);
  let ssRes = 0,
    ssTot = 0;
  for (let i = 0; i < truth.length; i++) {
    ssRes += (truth[i] - predicted[i]) ** 2;
    ssTot += (truth[i] - m) ** 2;
  }
  return ssTot === 0 ? 0 : 1 - ssRes / ssTot;
}

export function regressionMetrics(predicted: Numbers, truth: Numbers): RegressionMetrics {
  return {
    spearman: spearman(predicted, truth),
    pearson: pearson(predicted, truth),
    kendall: kendall(predicted, truth),
    r2: r2(predicted, truth),
  };
}

export function accuracy(predicted: Numbers, truth: Numbers): number {
  let hits = 0;
  for (let i = 0; i < truth.length; i++) if (predicted[i] === truth[i]) hits++;
  return truth.length === 0 ? 0 : hits / truth.length;
}

/** Unweighted mean of per-class F1 over the classes that occur in truth or predictions. */
export function macroF1(predicted: Numbers, truth: Numbers): number {
  const counts = new Map<number, { tp: number; fp: number; fn: number }>();
  const get = (c: number) => {
    let entry = counts.get(c);
    if (!entry) counts.set(c, (entry = { tp: 0, fp: 0, fn: 0 }));
    return entry;
  };
  for (let i = 0; i < truth.length; i++) {
    if (predicted[i] === truth[i]) get(truth[i]).tp++;
    else {
      get(predicted[i]).fp++;
      get(truth[i]).fn++;
    }
  }
  if (counts.size === 0) return 0;
  let sum = 0;
  for (const { tp, fp, fn } of counts.values()) sum += (2 * tp) / (2 * tp + fp + fn);
  return sum / counts.size;
}

export function classificationMetrics(predicted: Numbers, truth: Numbers): ClassificationMetrics {
  return { accuracy: accuracy(predicted, truth), macroF1: macroF1(predicted, truth) };
}

/** Scores of predicting the train mean for every test item. */
export function regressionChance(train: Numbers, test: Numbers): RegressionMetrics {
  const m = mean(train);
  return regressionMetrics(new Float64Array(test.length).fill(m), test);
}

/** Scores of predicting the train majority class (lowest index on ties) for every test item. */
export function classificationChance(train: Numbers, test: Numbers): ClassificationMetrics {
  const counts = new Map<number, number>();
  for (let i = 0; i < train.length; i++) counts.set(train[i], (counts.get(train[i]) ?? 0) + 1);
  let majority = 0,
    best = -1;
  for (const [c, n] of [...counts].sort((x, y) => x[0] - y[0]))
    if (n > best) {
      best = n;
      majority = c;
    }
  return classificationMetrics(new Float64Array(test.length).fill(majority), test);
}

/** The metric a probe result is ranked by (layer choice, headlines). */
export const primaryMetric = (task: 'regression' | 'classification'): string =>
  task === 'regression' ? 'spearman' : 'macroF1';
