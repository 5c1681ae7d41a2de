/**
 * AlpacaEval 2.0's length-controlled win rate as its released code computes it
 * (`get_length_controlled_winrate` in tatsu-lab/alpaca_eval `src/alpaca_eval/metrics/glm_winrate.py`):
 *
 *   logit P(model ≻ baseline) = θ·tanh(Δlen / std(Δlen)) + γ·difficulty + φ·not_gamed_baseline
 *   LC = 100 · mean over instructions of σ(γ·difficulty + φ)      (the same model with Δlen = 0)
 *
 * Δlen = len(baseline output) − len(model output) in code points, std = the sample standard
 * deviation over every comparison (failed judgements included); no intercept. The fit is sklearn's
 * L1-penalised logistic regression (liblinear, no intercept) on soft labels — every comparison twice,
 * as y = 1 with weight p and y = 0 with weight 1 − p — with C chosen from logspace(−4, 4, 10) by
 * GroupKFold(5) over the comparisons, scored by the soft-label log-loss, then refitted on all of them.
 * The three variants of the official GLM_INFO differ in the design:
 *
 *   length_controlled_minimal  tanh(Δlen/std) + not_gamed_baseline
 *   length_controlled_noreg    + instruction_difficulty
 *   length_controlled_v1       + instruction_difficulty, and the rows of two "gamed" baselines (the
 *                              baseline prompted to be verbose / concise, judged against itself,
 *                              not_gamed_baseline = 0) at weight λ/2 = 0.1 each: this regularises
 *                              the length term towards the baseline's (the leaderboard's variant)
 *
 * Checked against a re-implementation of the official function run with sklearn on synthetic sets
 * (test/fixtures/lc-winrate-official.json, scripts/lc-winrate-reference.py).
 */
import { AlignkitError } from '../../errors.ts';
import { fitL1Logistic } from './l1-logistic.ts';
import { groupKFoldOfEqualGroups } from './group-k-fold.ts';
import { numpyRandintInt32Max } from '../../util/mt19937.ts';

export const LC_VARIANTS = {
  length_controlled_minimal: { difficulty: false, gamed: false },
  length_controlled_noreg: { difficulty: true, gamed: false },
  length_controlled_v1: { difficulty: true, gamed: true },
} as const;
export type LcVariant = keyof typeof LC_VARIANTS;

/** One judged comparison of the model with the baseline on an instruction. */
export interface Comparison {
  /** P(model output preferred) in [0, 1] (a draw is 0.5); null = the judgement failed */
  preference: number | null;
  /** output lengths in Unicode code points (Python's len) */
  modelLength: number;
  baselineLength: number;
  /** the instruction's difficulty (AlpacaEval's instruction_difficulty), when known */
  difficulty?: number;
}

/** A row of AlpacaEval's `df_gamed.csv`: a gamed baseline judged against the baseline. */
export interface GamedRow {
  /** in [0, 1], as the file stores it */
  preference: number;
  /** that gamed baseline's Δlen divided by its own standard deviation, as the file stores it */
  stdDeltaLen: number;
  difficulty: number;
  /** the file's not_gamed_baseline column (false for the gamed baselines) */
  notGamedBaseline: boolean;
}

export interface OfficialLcOptions {
  variant: LcVariant;
  /** the gamed-baseline rows (length_controlled_v1 only) */
  gamed?: readonly GamedRow[];
  /** the model is the baseline itself: LC = 50 by construction, as the official code returns it */
  isBaseline?: boolean;
}

export interface OfficialLcResult {
  variant: LcVariant;
  /** 100 · mean predicted preference with Δlen = 0, over every comparison (failed ones included) */
  lcWinRate: number;
  /** 100 · standard error of those predictions */
  lcStandardError: number;
  /** coefficients of the design columns; null where the variant has no such column */
  coef: { length: number; difficulty: number | null; notGamedBaseline: number };
  /** the C cross-validation chose (null for the baseline itself) */
  C: number | null;
  /** the summed cross-validation score (−log-loss) of each C of the grid */
  cvScores: number[];
  /** std(Δlen) over the comparisons */
  lengthStd: number;
  isBaseline: boolean;
  /** rows the GLM was fitted on: judged comparisons and gamed rows */
  fittedRows: number;
}

/** LogisticRegressionCV(Cs=10): the grid numpy.logspace(−4, 4, 10), computed as numpy does (last point exact). */
export const C_GRID = Array.from({ length: 10 }, (_, i) => 10 ** (i === 9 ? 4 : i * (8 / 9) - 4));
const N_SPLITS = 5;
const GAMED_WEIGHT_LAMBDA = 0.2;
/** the official code fits with random_state=123; sklearn draws each liblinear seed from it */
const RANDOM_STATE = 123;
const LOG_LOSS_CLIP = 1e-15;

/** scipy's expit, which sklearn's predict_proba applies */
const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));
const dot = (a: readonly number[], b: readonly number[]) => a.reduce((s, ai, i) => s + ai * b[i], 0);

/** One row of the design with its soft label and the sample weight of the official fit. */
interface DesignRow {
  x: number[];
  p: number;
  weight: number;
}

/**
 * The duplicated problem sklearn is given: the y = 1 copies of the rows, then the y = 0 copies,
 * with fit weights p·w and (1 − p)·w; `groups` lists the rows that take part (both copies each).
 */
function duplicated(rows: readonly DesignRow[], groups: readonly number[]) {
  const x = [...groups.map((g) => rows[g].x), ...groups.map((g) => rows[g].x)];
  const y = [...groups.map(() => 1 as const), ...groups.map(() => 0 as const)];
  const weight = [
    ...groups.map((g) => rows[g].p * rows[g].weight),
    ...groups.map((g) => (1 - rows[g].p) * rows[g].weight),
  ];
  return { x, y, weight };
}

/**
 * The official score of a held-out fold, −log-loss: the mean over both copies of each row of
 * w·[p log q + (1 − p) log(1 − q)], q clipped to [1e−15, 1 − 1e−15]. The y = 0 copy recovers its
 * label as 1 − (1 − p), as the official code does (it can differ from p in the last bit).
 */
function foldScore(
  rows: readonly DesignRow[],
  test: readonly number[],
  coef: readonly number[],
  weighted: boolean,
): number {
  let sum = 0;
  for (const copy of [1, 0]) {
    for (const g of test) {
      const { x, p, weight } = rows[g];
      const label = copy === 1 ? p : 1 - (1 - p);
      const q = Math.min(Math.max(sigmoid(dot(x, coef)), LOG_LOSS_CLIP), 1 - LOG_LOSS_CLIP);
      const term = label * Math.log(q) + (1 - label) * Math.log(1 - q);
      sum += weighted ? term * weight : term;
    }
  }
  return sum / (2 * test.length);
}

function sampleStd(xs: readonly number[]): number {
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  return Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (xs.length - 1));
}

export function officialLcWinRate(comparisons: readonly Comparison[], options: OfficialLcOptions): OfficialLcResult {
  const { variant } = options;
  const design = LC_VARIANTS[variant];
  const n = comparisons.length;
  const notGamedOnly = { length: 0, difficulty: design.difficulty ? 0 : null, notGamedBaseline: 0 };
  if (options.isBaseline)
    return {
      variant,
      lcWinRate: 50,
      lcStandardError: 0,
      coef: notGamedOnly,
      C: null,
      cvScores: [],
      lengthStd: NaN,
      isBaseline: true,
      fittedRows: 0,
    };
  if (design.gamed && !options.gamed?.length)
    throw new AlignkitError('input', `${variant} needs the gamed-baseline rows (df_gamed.csv)`);
  const missing = design.difficulty ? comparisons.findIndex((c) => c.difficulty === undefined) : -1;
  if (missing >= 0)
    throw new AlignkitError(
      'input',
      `${variant} needs the instruction difficulty of every instruction (none for #${missing})`,
    );
  const deltas = comparisons.map((c) => c.baselineLength - c.modelLength);
  const lengthStd = n > 1 ? sampleStd(deltas) : NaN;
  if (!(lengthStd > 0))
    throw new AlignkitError(
      'numeric',
      n > 1
        ? 'every model output has the length of its baseline output (std of the length difference is 0): the length term cannot be fitted'
        : 'one comparison: the length difference has no standard deviation',
    );
  const features = (lengthTerm: number, difficulty: number | undefined, notGamed: number) => [
    lengthTerm,
    ...(design.difficulty ? [difficulty!] : []),
    notGamed,
  ];
  // gamed rows first (at weight λ/2 each), then the model's judged comparisons (weight 1)
  const rows: DesignRow[] = [
    ...(design.gamed ? options.gamed! : []).map((g) => ({
      x: features(Math.tanh(g.stdDeltaLen), g.difficulty, g.notGamedBaseline ? 1 : 0),
      p: g.preference,
      weight: g.notGamedBaseline ? 1 : GAMED_WEIGHT_LAMBDA / 2,
    })),
    ...comparisons.flatMap((c, i) =>
      c.preference === null
        ? []
        : [{ x: features(Math.tanh(deltas[i] / lengthStd), c.difficulty, 1), p: c.preference, weight: 1 }],
    ),
  ];
  const judged = rows.length - (design.gamed ? options.gamed!.length : 0);
  if (rows.length < N_SPLITS)
    throw new AlignkitError(
      'input',
      `the official fit cross-validates over ${N_SPLITS} folds and needs at least ${N_SPLITS} judged comparisons, got ${judged}`,
    );
  // without gamed rows the official code passes no sample weights, so the scorer is unweighted
  const weighted = design.gamed;
  const fold = groupKFoldOfEqualGroups(rows.length, N_SPLITS);
  const seeds = numpyRandintInt32Max(RANDOM_STATE, C_GRID.length);
  const cvScores = C_GRID.map(() => 0);
  for (let f = 0; f < N_SPLITS; f++) {
    const train = rows.flatMap((_, g) => (fold[g] === f ? [] : [g]));
    const test = rows.flatMap((_, g) => (fold[g] === f ? [g] : []));
    const problem = duplicated(rows, train);
    // LogisticRegressionCV's path seeds the fit of the c-th C with the c-th draw of one RandomState(123)
    C_GRID.forEach((C, c) => {
      const { coef } = fitL1Logistic(problem, { C, seed: seeds[c] });
      cvScores[c] += foldScore(rows, test, coef, weighted);
    });
  }
  const best = cvScores.indexOf(Math.max(...cvScores));
  const all = rows.map((_, g) => g);
  const { coef } = fitL1Logistic(duplicated(rows, all), { C: C_GRID[best], seed: seeds[0] });
  const predictions = comparisons.map((c) => sigmoid(dot(features(0, c.difficulty, 1), coef)));
  const mean = predictions.reduce((a, b) => a + b, 0) / n;
  return {
    variant,
    lcWinRate: 100 * mean,
    lcStandardError: (100 * sampleStd(predictions)) / Math.sqrt(n),
    coef: {
      length: coef[0],
      difficulty: design.difficulty ? coef[1] : null,
      notGamedBaseline: coef[coef.length - 1],
    },
    C: C_GRID[best],
    cvScores,
    lengthStd,
    isBaseline: false,
    fittedRows: rows.length,
  };
}
