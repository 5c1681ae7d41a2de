/**
 * Length-regularized DPO (R-DPO; the loss inside iLR-DPO, notes §0 and §3.2):
 *
 *   loss = −log σ( β·[h(y_w) − h(y_l)] + α·(|y_w| − |y_l|) )
 *
 * Sign convention: the length term is ADDED to the logit with α ≥ 0 and chosen-minus-rejected
 * order. It is MODPO with w = (1, α) and the rule margin m(y) = −|y|:
 * −α·(m(y_w) − m(y_l)) = +α·(|y_w| − |y_l|). When the chosen response is longer, the term
 * already pushes z up, so the policy needs a smaller implicit-reward gap and gains less from
 * preferring the longer answer; when the chosen response is shorter, z starts lower and the
 * policy must open a larger gap, which favours short answers. A flipped sign would reward
 * verbosity instead. |y| counts response tokens of the policy's tokenizer (EOS included on both
 * sides, so it cancels).
 */
import { pairLoss } from './pair-loss.ts';
import type { PreferencePair } from './examples.ts';
import type { DpoObjectiveOptions } from './dpo-objective.ts';
import type { Objective } from './objective.ts';
import { inputError } from '../errors.ts';

/** α·(|y_w| − |y_l|): the per-pair offset the DPO-family loss adds to β·Δh. */
export function lengthOffset(alpha: number, chosenLength: number, rejectedLength: number): number {
  return alpha * (chosenLength - rejectedLength);
}

/** The whole loss over numbers, for tests and metrics: Δh = h(y_w) − h(y_l). */
export function lengthRegularizedLoss(
  beta: number,
  alpha: number,
  deltaH: number,
  chosenLength: number,
  rejectedLength: number,
): { logit: number; loss: number } {
  const logit = beta * deltaH + lengthOffset(alpha, chosenLength, rejectedLength);
  return { logit, loss: pairLoss(logit) };
}

export function checkLengthAlpha(alpha: number, field = 'length-alpha'): number {
  if (!Number.isFinite(alpha) || alpha < 0)
    throw inputError(
      `expected a number ≥ 0 (0 = plain DPO; the notes suggest 0.001–0.03 per token for chat-length responses), got ${alpha}`,
      { field },
    );
  return alpha;
}

/** The dpoObjective options that add the length term (none for α = 0: plain DPO). */
export function lengthRegularization(alpha: number): Pick<DpoObjectiveOptions, 'margin' | 'kind'> {
  if (checkLengthAlpha(alpha) === 0) return {};
  return {
    kind: 'lr-dpo',
    margin: (p: PreferencePair) => lengthOffset(alpha, p.chosenIds.length, p.rejectedIds.length),
  };
}

/** Adds TRL-style length metrics (mean response tokens of chosen and rejected) to a preference objective. */
export function withLengthMetrics(objective: Objective<PreferencePair>): Objective<PreferencePair> {
  return {
    ...objective,
    metrics(items, fetched) {
      const m = objective.metrics(items, fetched);
      const sum = (f: (p: PreferencePair) => number) => items.reduce((a, p) => a + f(p), 0);
      return {
        ...m,
        sums: {
          ...m.sums,
          'length/chosen': sum((p) => p.chosenIds.length),
          'length/rejected': sum((p) => p.rejectedIds.length),
        },
      };
    },
  };
}
