/**
 * The MODPO loss (notes §2.1, the paper's Eq. 11) over numbers, for any number of objectives:
 *
 *   z = (β/w_k)·[h(y_w) − h(y_l)] − (1/w_k)·w_{-k}ᵀ[m(y_w) − m(y_l)],   loss = −log σ(z)
 *
 * with h(y) = log π(y|x) − log π_ref(y|x) (summed over response tokens) and m the frozen margin
 * rewards. In training the DPO graph computes β'·Δh + offset with β' = β/w_k and a per-pair
 * offset (`modpoDpoTerms`, the `scale` and `margin` of dpoObjective); these functions give the
 * same numbers over plain log-prob values, for tests and metrics.
 */
import type { ObjectiveWeights } from './objective-weights.ts';
import type { PairLogps } from './dpo-metrics.ts';
import { pairLoss } from './pair-loss.ts';
import { AlignkitError } from '../errors.ts';

/** The margin rewards of a pair, one entry per margin model (in the weights' order). */
export interface PairMargins {
  chosen: readonly number[];
  rejected: readonly number[];
}

export interface PairLoss {
  /** MODPO per-response rewards (1/w_k)·(β·h − w_{-k}ᵀm), as the reference code logs them */
  chosenReward: number;
  rejectedReward: number;
  /** z = chosenReward − rejectedReward */
  logit: number;
  /** −log σ(z) */
  loss: number;
}

const dot = (w: readonly number[], m: readonly number[]) => w.reduce((acc, wj, j) => acc + wj * m[j], 0);

function checkMarginCount(weights: ObjectiveWeights, margins: PairMargins): void {
  const n = weights.margins.length;
  if (margins.chosen.length !== n || margins.rejected.length !== n)
    throw new AlignkitError(
      'internal',
      `a pair has ${margins.chosen.length}/${margins.rejected.length} margins for ${n} margin weights`,
    );
}

/** The MODPO loss of one pair, with the per-response rewards. */
export function modpoPairLoss(
  beta: number,
  weights: ObjectiveWeights,
  logps: PairLogps,
  margins: PairMargins,
): PairLoss {
  checkMarginCount(weights, margins);
  const reward = (policy: number, ref: number, m: readonly number[]) =>
    (beta * (policy - ref) - dot(weights.margins, m)) / weights.trained;
  const chosenReward = reward(logps.policyChosen, logps.refChosen, margins.chosen);
  const rejectedReward = reward(logps.policyRejected, logps.refRejected, margins.rejected);
  const logit = chosenReward - rejectedReward;
  return { chosenReward, rejectedReward, logit, loss: pairLoss(logit) };
}

/**
 * MODPO as a DPO-family loss β'·Δh + offset: β' = β/w_k and, per pair,
 * offset = −(1/w_k)·w_{-k}ᵀ[m(y_w) − m(y_l)]. A margin model that prefers the chosen response
 * (m(y_w) > m(y_l)) lowers z, so the policy must open a larger gap β·Δh: its implicit reward
 * learns the collective reward w_k·r_k + w_{-k}ᵀm, and the data only tell it about r_k.
 */
export function modpoDpoTerms(
  beta: number,
  weights: ObjectiveWeights,
  margins: readonly PairMargins[],
): { beta: number; offsets: number[] } {
  return {
    beta: beta / weights.trained,
    offsets: margins.map((m) => {
      checkMarginCount(weights, m);
      return -(dot(weights.margins, m.chosen) - dot(weights.margins, m.rejected)) / weights.trained;
    }),
  };
}
