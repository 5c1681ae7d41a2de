/**
 * DPO's loss and TRL's metrics for a batch of pairs, in float64 from summed response log-probs.
 * Rewards are β·(log π_θ − log π_ref) (TRL logs these whatever the loss variant); accuracy
 * is the share of pairs with chosen reward strictly above rejected.
 */
import { pairLoss, type PairLossType } from './pair-loss.ts';

export interface PairLogps {
  policyChosen: number;
  policyRejected: number;
  refChosen: number;
  refRejected: number;
}

export interface DpoLossOptions {
  beta: number;
  /** multiplies h(y_w) − h(y_l) in the loss (default β; β/w₀ for MODPO) */
  scale?: number;
  loss?: PairLossType;
}

export const dpoMetricNames = [
  'rewards/chosen',
  'rewards/rejected',
  'rewards/accuracies',
  'rewards/margins',
  'logps/chosen',
  'logps/rejected',
] as const;

/** z of one pair: scale·[h(y_w) − h(y_l)] + margin. */
export function dpoLogit(p: PairLogps, options: DpoLossOptions, margin = 0): number {
  const scale = options.scale ?? options.beta;
  return scale * (p.policyChosen - p.refChosen - (p.policyRejected - p.refRejected)) + margin;
}

/** Sums over the pairs (divide by the count for TRL's batch means): loss and the metrics above. */
export function dpoMetricSums(
  pairs: readonly PairLogps[],
  options: DpoLossOptions,
  margins: readonly number[] = [],
): Record<string, number> {
  const sums: Record<string, number> = { loss: 0 };
  for (const k of dpoMetricNames) sums[k] = 0;
  pairs.forEach((p, i) => {
    const chosen = options.beta * (p.policyChosen - p.refChosen);
    const rejected = options.beta * (p.policyRejected - p.refRejected);
    sums.loss += pairLoss(dpoLogit(p, options, margins[i] ?? 0), options.loss);
    sums['rewards/chosen'] += chosen;
    sums['rewards/rejected'] += rejected;
    sums['rewards/accuracies'] += chosen > rejected ? 1 : 0;
    sums['rewards/margins'] += chosen - rejected;
    sums['logps/chosen'] += p.policyChosen;
    sums['logps/rejected'] += p.policyRejected;
  });
  return sums;
}

export function dpoMetrics(
  pairs: readonly PairLogps[],
  options: DpoLossOptions,
  margins: readonly number[] = [],
): Record<string, number> {
  const sums = dpoMetricSums(pairs, options, margins);
  return Object.fromEntries(Object.entries(sums).map(([k, v]) => [k, v / pairs.length]));
}
