import { selectRows, selectValues, type Matrix } from './matrix.ts';
import { splitIndices } from './dataset-split.ts';
import { Standardizer } from './standardizer.ts';
import { classificationChance, classificationMetrics, regressionChance, regressionMetrics } from './metrics.ts';
import { createRng } from '../util/random.ts';
import { defaultProbeGrid, fitProbeOnValidation, type ProbeGrid, type ProbeKind } from './probe-fit.ts';
import type { EncodedLabels } from './label-encoding.ts';

export type MetricValues = Record<string, number>;
export interface MeanSd {
  mean: number;
  sd: number;
}

export interface SeedResult {
  seed: number;
  hyper: Record<string, number>;
  test: MetricValues;
  val: MetricValues;
  chance: MetricValues;
}

export interface ProbeEvaluation {
  probe: ProbeKind;
  task: EncodedLabels['task'];
  items: number;
  shuffledLabels: boolean;
  seeds: SeedResult[];
  test: Record<string, MeanSd>;
  val: Record<string, MeanSd>;
  chance: Record<string, MeanSd>;
}

export interface EvaluateOptions {
  probe: ProbeKind;
  /** seeds 0..seeds-1: each gives its own split, initialisation (and label permutation) */
  seeds: number;
  grid?: ProbeGrid;
  /** the shuffled-label control: labels are permuted before splitting */
  shuffleLabels?: boolean;
  /** classification: downsample every class to the smallest one (accuracy = F1 at chance 1/K) */
  balanceClasses?: boolean;
  /** names the data in error messages */
  what?: string;
}

/**
 * Fits a probe from features to labels under several seeds — split 60/20/20, standardize with
 * train statistics, choose hyper-parameters on validation — and scores it on test next to the
 * chance predictor. `features` rows align with `labels.kept`.
 */
export function evaluateProbe(features: Matrix, labels: EncodedLabels, options: EvaluateOptions): ProbeEvaluation {
  if (features.rows !== labels.kept.length)
    throw new RangeError(`features have ${features.rows} rows but ${labels.kept.length} labels`);
  const grid = options.grid ?? defaultProbeGrid;
  const classes = labels.classes?.length ?? 0;
  const what = options.what ?? `attribute "${labels.attribute}"`;
  const seeds: SeedResult[] = [];
  for (let seed = 0; seed < options.seeds; seed++) {
    let rows = Array.from({ length: features.rows }, (_, i) => i);
    if (options.balanceClasses && labels.task === 'classification')
      rows = balancedRows(labels.y as Int32Array, classes, seed * 16 + 2);
    const labelRows = options.shuffleLabels ? createRng(seed * 16 + 1).shuffle([...rows]) : rows;
    const y = selectValues(labels.y, labelRows);
    const x = selectRows(features, rows);
    const split = splitIndices(rows.length, seed, what, labels.task === 'classification' ? y : undefined);
    const standardizer = Standardizer.fit(selectRows(x, split.train));
    const part = (idx: number[]) => ({ x: standardizer.apply(selectRows(x, idx)), y: selectValues(y, idx) });
    const train = part(split.train),
      val = part(split.val),
      test = part(split.test);
    const probe = fitProbeOnValidation(options.probe, labels.task, classes, train, val, grid, seed);
    const score = (p: { x: Matrix; y: Float64Array | Int32Array }) =>
      labels.task === 'regression'
        ? regressionMetrics(probe.predict(p.x), p.y)
        : classificationMetrics(probe.predict(p.x), p.y);
    seeds.push({
      seed,
      hyper: probe.hyper,
      test: score(test),
      val: score(val),
      chance: labels.task === 'regression' ? regressionChance(train.y, test.y) : classificationChance(train.y, test.y),
    });
  }
  return {
    probe: options.probe,
    task: labels.task,
    items: features.rows,
    shuffledLabels: !!options.shuffleLabels,
    seeds,
    test: summarize(seeds.map((s) => s.test)),
    val: summarize(seeds.map((s) => s.val)),
    chance: summarize(seeds.map((s) => s.chance)),
  };
}

function balancedRows(y: Int32Array, classes: number, seed: number): number[] {
  const byClass = Array.from({ length: classes }, () => [] as number[]);
  y.forEach((c, i) => byClass[c].push(i));
  const present = byClass.filter((m) => m.length > 0);
  const size = Math.min(...present.map((m) => m.length));
  const rng = createRng(seed);
  return present.flatMap((m) => rng.shuffle([...m]).slice(0, size)).sort((a, b) => a - b);
}

export function summarize(results: MetricValues[]): Record<string, MeanSd> {
  const out: Record<string, MeanSd> = {};
  for (const key of Object.keys(results[0] ?? {})) {
    const v = results.map((r) => r[key]);
    const mean = v.reduce((a, b) => a + b, 0) / v.length;
    const sd = v.length > 1 ? Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / (v.length - 1)) : 0;
    out[key] = { mean, sd };
  }
  return out;
}
