/**
 * The length-controlled win rate a run reports: AlpacaEval 2.0's official fit (the default; the
 * richest variant the data supports) or alignkit's maximum-likelihood fit (`--lc-fit mle`), with
 * the sentence that names what was fitted.
 */
import { AlignkitError } from '../../errors.ts';
import { lengthControlledWinRate } from './glm.ts';
import { officialLcWinRate, type Comparison, type GamedRow, type LcVariant } from './official-lc.ts';

export const LC_FITS = ['official', 'mle'] as const;
export type LcFit = (typeof LC_FITS)[number];

export interface LcInputs {
  /** every comparison, failed judgements (preference null) included */
  comparisons: readonly Comparison[];
  gamed?: readonly GamedRow[];
  /** the model is the baseline itself */
  isBaseline?: boolean;
  /** where the instruction difficulty came from (a file, or the data records) */
  difficultySource?: string;
}

export interface LcOutcome {
  fit: LcFit;
  /** the official variant fitted (null for the maximum-likelihood fit) */
  variant: LcVariant | null;
  /** null when the GLM could not be fitted (`error` says why) */
  lcWinRate: number | null;
  lcStandardError: number | null;
  /** weight of tanh(Δlen/std), of the difficulty (null when not in the model), and φ */
  coef: { length: number; difficulty: number | null; phi: number } | null;
  /** the C cross-validation chose (official fit) */
  C: number | null;
  lengthStd: number | null;
  converged: boolean | null;
  error?: string;
  /** one sentence naming the fit, its terms and where their data came from */
  note: string;
}

/** The richest official variant the data supports: gamed rows → v1; difficulty for all → noreg. */
export function richestVariant(inputs: LcInputs): LcVariant {
  if (inputs.gamed?.length) return 'length_controlled_v1';
  if (inputs.comparisons.length && inputs.comparisons.every((c) => c.difficulty !== undefined))
    return 'length_controlled_noreg';
  return 'length_controlled_minimal';
}

const DIFFICULTY_HINT = 'give --lc-difficulty instruction_difficulty.csv or --lc-gamed df_gamed.csv';

function officialNote(variant: LcVariant, inputs: LcInputs, C: number | null): string {
  const from = inputs.difficultySource ?? 'the data records';
  const terms = {
    length_controlled_minimal: `tanh(Δlen/std) + not-gamed term — no instruction difficulty (${DIFFICULTY_HINT} for the leaderboard's variant)`,
    length_controlled_noreg: `tanh(Δlen/std) + instruction difficulty (from ${from}) + not-gamed term — no gamed-baseline rows (--lc-gamed df_gamed.csv for the leaderboard's variant)`,
    length_controlled_v1: `tanh(Δlen/std) + instruction difficulty + not-gamed term, with the gamed-baseline rows of ${inputs.difficultySource ?? 'the gamed file'} at weight 0.1 (the leaderboard's variant)`,
  }[variant];
  const fit =
    C === null
      ? 'LC = 50 by construction (the model is the baseline)'
      : `L1 logistic regression, C = ${Number(C.toPrecision(3))} chosen by grouped 5-fold cross-validation`;
  return `LC GLM: AlpacaEval 2.0's official ${variant}: ${terms}; ${fit}. Lengths in code points.`;
}

export function lengthControlled(inputs: LcInputs, fit: LcFit, options: { l2?: number } = {}): LcOutcome {
  const failed = (variant: LcVariant | null, note: string, e: unknown): LcOutcome => {
    if (!(e instanceof AlignkitError)) throw e;
    return {
      fit,
      variant,
      lcWinRate: null,
      lcStandardError: null,
      coef: null,
      C: null,
      lengthStd: null,
      converged: null,
      error: e.message,
      note: `${note} Not computed: ${e.message}.`,
    };
  };
  if (fit === 'official') {
    const variant = richestVariant(inputs);
    try {
      const r = officialLcWinRate(inputs.comparisons, { variant, gamed: inputs.gamed, isBaseline: inputs.isBaseline });
      return {
        fit,
        variant,
        lcWinRate: r.lcWinRate,
        lcStandardError: r.lcStandardError,
        coef: { length: r.coef.length, difficulty: r.coef.difficulty, phi: r.coef.notGamedBaseline },
        C: r.C,
        lengthStd: r.isBaseline ? null : r.lengthStd,
        converged: null,
        note: officialNote(variant, inputs, r.C),
      };
    } catch (e) {
      return failed(variant, `LC GLM: AlpacaEval 2.0's official ${variant}.`, e);
    }
  }
  const judged = inputs.comparisons.filter((c) => c.preference !== null);
  const mleNote = (usedDifficulty: boolean) =>
    `LC GLM: alignkit's maximum-likelihood fit (--lc-fit mle): θ·tanh(Δlen/std) + φ${usedDifficulty ? ' + γ·instruction difficulty' : ' (no instruction difficulty)'}, with an intercept, by Newton's method with a small L2 penalty, on the judged comparisons only — not AlpacaEval's fit (no L1 cross-validation, no gamed-baseline rows). Lengths in code points.`;
  try {
    const r = lengthControlledWinRate(
      judged.map((c) => ({
        p: c.preference!,
        modelLength: c.modelLength,
        baselineLength: c.baselineLength,
        difficulty: c.difficulty,
      })),
      { l2: options.l2 },
    );
    return {
      fit,
      variant: null,
      lcWinRate: r.lcWinRate,
      lcStandardError: null,
      coef: { length: r.lengthCoef, difficulty: r.difficultyCoef, phi: r.intercept },
      C: null,
      lengthStd: r.lengthStd,
      converged: r.converged,
      note: mleNote(r.usedDifficulty),
    };
  } catch (e) {
    return failed(null, mleNote(false), e);
  }
}
