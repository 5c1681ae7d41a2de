/**
 * Weighted logistic regression with soft labels, fitted by Newton's method (IRLS); alignkit's
 * maximum-likelihood length-controlled win rate built on it (`--lc-fit mle`: AlpacaEval 2.0's
 * GLM terms, fitted without its L1 cross-validation — official-lc.ts is the official fit); and
 * the raw win rate.
 */
import { AlignkitError } from '../../errors.ts';

export interface LogisticRow {
  x: readonly number[];
  /** soft label in [0, 1] (equivalent to the row duplicated with y=1 weight p and y=0 weight 1-p) */
  y: number;
  /** sample weight (default 1) */
  w?: number;
}

export interface LogisticFit {
  coef: number[];
  iterations: number;
  converged: boolean;
}

const sigmoid = (z: number) => (z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z)));

/** Solves A x = b for a small dense symmetric positive (semi)definite A (Gaussian elimination with pivoting). */
function solve(a: number[][], b: number[]): number[] {
  const n = b.length;
  const m = a.map((row, i) => [...row, b[i]]);
  for (let col = 0; col < n; col++) {
    let pivot = col;
    for (let r = col + 1; r < n; r++) if (Math.abs(m[r][col]) > Math.abs(m[pivot][col])) pivot = r;
    if (Math.abs(m[pivot][col]) < 1e-300)
      throw new AlignkitError('numeric', 'singular Hessian in the logistic fit (a feature is constant zero?)');
    [m[col], m[pivot]] = [m[pivot], m[col]];
    for (let r = 0; r < n; r++) {
      if (r === col) continue;
      const f = m[r][col] / m[col][col];
      for (let c = col; c <= n; c++) m[r][c] -= f * m[col][c];
    }
  }
  return m.map((row, i) => row[n] / row[i]);
}

/**
 * Maximises Σ w·[y log σ(x·β) + (1−y) log(1−σ(x·β))] − ½·l2·|β|² by Newton steps (no intercept
 * unless a column of ones is given). l2 > 0 keeps the fit finite when the data are separable.
 */
export function fitLogistic(
  rows: readonly LogisticRow[],
  options: { l2?: number; maxIterations?: number; tolerance?: number } = {},
): LogisticFit {
  const { l2 = 0, maxIterations = 100, tolerance = 1e-12 } = options;
  if (rows.length === 0) throw new AlignkitError('input', 'no rows to fit');
  const d = rows[0].x.length;
  let beta = new Array<number>(d).fill(0);
  for (let it = 1; it <= maxIterations; it++) {
    const grad = beta.map((b) => -l2 * b);
    const hess = Array.from({ length: d }, (_, i) => Array.from({ length: d }, (_, j) => (i === j ? l2 : 0)));
    for (const { x, y, w = 1 } of rows) {
      const p = sigmoid(x.reduce((s, xi, i) => s + xi * beta[i], 0));
      const r = w * (y - p);
      const v = w * p * (1 - p);
      for (let i = 0; i < d; i++) {
        grad[i] += r * x[i];
        for (let j = 0; j < d; j++) hess[i][j] += v * x[i] * x[j];
      }
    }
    const step = solve(hess, grad);
    beta = beta.map((b, i) => b + step[i]);
    if (!beta.every(Number.isFinite))
      throw new AlignkitError('numeric', 'the logistic fit diverged (separable data; use a positive l2)');
    if (Math.max(...step.map(Math.abs)) < tolerance * (1 + Math.max(...beta.map(Math.abs))))
      return { coef: beta, iterations: it, converged: true };
  }
  return { coef: beta, iterations: maxIterations, converged: false };
}

export interface PairwiseOutcome {
  /** P(model preferred over baseline), in [0, 1] */
  p: number;
  modelLength: number;
  baselineLength: number;
  /** per-instruction difficulty, when available for every instruction */
  difficulty?: number;
}

export interface LengthControlledResult {
  /** 100 · mean σ(φ + γ·difficulty): the fitted win rate with the length difference set to 0 */
  lcWinRate: number;
  /** weight of tanh(Δlen / std(Δlen)), Δlen = baseline length − model length */
  lengthCoef: number;
  /** the "not gamed baseline" term, an intercept here */
  intercept: number;
  difficultyCoef: number | null;
  usedDifficulty: boolean;
  /** sample standard deviation of Δlen */
  lengthStd: number;
  converged: boolean;
}

/**
 * The maximum-likelihood fit of AlpacaEval 2.0's GLM terms on this model's comparisons only:
 * logit P = θ·tanh(Δlen/std) + φ [+ γ·difficulty], with φ an intercept and a small L2 penalty
 * that keeps the fit finite. It recovers the generating LC where the data follow the GLM, but
 * it is not the number AlpacaEval reports (official-lc.ts is).
 */
export function lengthControlledWinRate(
  outcomes: readonly PairwiseOutcome[],
  options: { l2?: number } = {},
): LengthControlledResult {
  const n = outcomes.length;
  if (n === 0) throw new AlignkitError('input', 'no comparisons to fit the length-controlled win rate on');
  const delta = outcomes.map((o) => o.baselineLength - o.modelLength);
  const mean = delta.reduce((a, b) => a + b, 0) / n;
  const std = n > 1 ? Math.sqrt(delta.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1)) : 0;
  const usedDifficulty = outcomes.every((o) => typeof o.difficulty === 'number' && Number.isFinite(o.difficulty));
  // with no spread in Δlen the length column is identically 0: leave it out (θ = 0)
  const useLength = std > 0;
  const rows = outcomes.map((o, i) => ({
    x: [...(useLength ? [Math.tanh(delta[i] / std)] : []), 1, ...(usedDifficulty ? [o.difficulty!] : [])],
    y: o.p,
  }));
  const fit = fitLogistic(rows, { l2: options.l2 ?? 1e-3 });
  const coef = useLength ? fit.coef : [0, ...fit.coef];
  const [theta, phi, gamma] = coef;
  const lc = (100 * outcomes.reduce((s, o) => s + sigmoid(phi + (usedDifficulty ? gamma * o.difficulty! : 0)), 0)) / n;
  return {
    lcWinRate: lc,
    lengthCoef: theta,
    intercept: phi,
    difficultyCoef: usedDifficulty ? gamma : null,
    usedDifficulty,
    lengthStd: std,
    converged: fit.converged,
  };
}

export interface RawWinRate {
  /** 100 · mean p */
  winRate: number;
  /** 100 · standard error of the mean */
  standardError: number;
  /** 100 · mean of p rounded to {0, 0.5, 1} */
  discreteWinRate: number;
  wins: number;
  losses: number;
  draws: number;
}

export function rawWinRate(ps: readonly number[]): RawWinRate {
  const n = ps.length;
  const mean = n ? ps.reduce((a, b) => a + b, 0) / n : NaN;
  const sd = n > 1 ? Math.sqrt(ps.reduce((a, p) => a + (p - mean) ** 2, 0) / (n - 1)) : 0;
  const discrete = ps.map((p) => (p > 0.5 ? 1 : p < 0.5 ? 0 : 0.5));
  return {
    winRate: 100 * mean,
    standardError: n > 1 ? (100 * sd) / Math.sqrt(n) : 0,
    discreteWinRate: n ? (100 * discrete.reduce((a: number, b) => a + b, 0)) / n : NaN,
    wins: ps.filter((p) => p > 0.5).length,
    losses: ps.filter((p) => p < 0.5).length,
    draws: ps.filter((p) => p === 0.5).length,
  };
}
