/**
 * The pairwise loss every preference objective shares: a logit z per pair (chosen minus
 * rejected), loss −log σ(z) = softplus(−z) (or the hinge relu(1 − z)), averaged over the
 * step's pairs. Reward models use z = r_w − r_l − m; the DPO family uses
 * z = c·[h(y_w) − h(y_l)] + m, where a per-pair margin m carries MODPO's −(1/w₀)·wᵀΔm and
 * length-regularized DPO's α·(|y_w| − |y_l|).
 */
import type { Value } from '../engine/graph.ts';
import type { Ops } from '../engine/ops.ts';

export type PairLossType = 'sigmoid' | 'hinge';

export const pairInputNames = { weights: 'pair_weights', margins: 'pair_margins' } as const;

/** Σ loss(z)·w over pairs, w = 1 / (pairs in the step). */
export function pairLossGraph(o: Ops, z: Value, weights: Value, type: PairLossType): Value {
  const perPair = type === 'hinge' ? o.relu(o.sub(o.scalar(1), z)) : o.softplus(o.neg(z));
  return o.reduceSum(o.mul(perPair, weights), [0], false);
}

/** softplus(x) = log(1 + eˣ), stable for large |x|. */
export const softplus = (x: number) => Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x)));
export const logSigmoid = (z: number) => -softplus(-z);

export function pairLoss(z: number, type: PairLossType = 'sigmoid'): number {
  return type === 'hinge' ? Math.max(0, 1 - z) : softplus(-z);
}
