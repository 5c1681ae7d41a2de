/**
 * Bradley-Terry reward model: a scalar head `score.weight` [1, D] (as HF's
 * *ForSequenceClassification) read at the last token of prompt + response; loss
 * −log σ(r_w − r_l − m) over pairs (m: an optional per-pair margin, Llama-2 style; 0 by default).
 */
import type { Value } from '../engine/graph.ts';
import type { ModelConfig } from '../models/config.ts';
import type { Weights } from '../models/weights.ts';
import { createRng } from '../util/random.ts';
import { floatFeed, int64Feed, packSequences } from './batch-tensors.ts';
import type { PreferencePair } from './examples.ts';
import { pairLength } from './examples.ts';
import type { LossContext, Objective } from './objective.ts';
import { pairInputNames, pairLossGraph, type PairLossType } from './pair-loss.ts';

import { SCORE_HEAD } from '../models/inference-graphs.ts';

/** the reward head's tensor name (HF *ForSequenceClassification's `score.weight`) */
export const SCORE_WEIGHT = SCORE_HEAD;
const names = {
  chosenRows: 'chosen_rows',
  rejectedRows: 'rejected_rows',
  chosen: 'rewards_chosen',
  rejected: 'rewards_rejected',
} as const;

/** A new reward head, normal(0, 0.02) as HF initializes `score` (initializer_range), so rewards start near 0. */
export function initRewardHead(cfg: ModelConfig, seed: number): Weights {
  const rng = createRng(seed);
  return new Map([
    [
      SCORE_WEIGHT,
      { shape: [1, cfg.hiddenSize], data: Float32Array.from({ length: cfg.hiddenSize }, () => rng.normal() * 0.02) },
    ],
  ]);
}

/** The head's reward at flattened rows: [rows] of hidden [B, T, D]. */
export function rewardAt({ o, g, cfg, params, hidden }: LossContext, rowsInput: string): Value {
  const rows = g.input(rowsInput, 'int64', ['P']);
  const flat = o.reshape(hidden, [-1, cfg.hiddenSize]);
  return o.reshape(o.matmul(o.gather(flat, rows), o.transpose(params.tensor(SCORE_WEIGHT), [1, 0])), [-1]);
}

export interface RewardObjectiveOptions {
  loss?: PairLossType;
  /** per-pair margin subtracted from r_w − r_l */
  margin?: (pair: PreferencePair) => number;
}

/** Each pair runs as two sequences: all chosen first, then all rejected. */
export const pairSequences = (items: readonly PreferencePair[]) => [
  ...items.map((p) => [...p.promptIds, ...p.chosenIds]),
  ...items.map((p) => [...p.promptIds, ...p.rejectedIds]),
];

export function rewardObjective(options: RewardObjectiveOptions = {}): Objective<PreferencePair> {
  return {
    kind: 'rm',
    extraWeights: initRewardHead,
    addLoss(ctx) {
      const { o, g } = ctx;
      const chosen = rewardAt(ctx, names.chosenRows);
      const rejected = rewardAt(ctx, names.rejectedRows);
      const margins = g.input(pairInputNames.margins, 'float32', ['P']);
      const weights = g.input(pairInputNames.weights, 'float32', ['P']);
      const loss = pairLossGraph(o, o.sub(o.sub(chosen, rejected), margins), weights, options.loss ?? 'sigmoid');
      return { loss, outputs: { [names.chosen]: chosen, [names.rejected]: rejected } };
    },
    normalizer: (items) => items.length,
    sequences: pairSequences,
    length: pairLength,
    feeds(items, normalizer) {
      const seqs = pairSequences(items);
      const packed = packSequences(seqs);
      const T = packed.length;
      const P = items.length;
      const last = (b: number) => b * T + seqs[b].length - 1;
      return {
        ...packed.feeds,
        [names.chosenRows]: int64Feed(items.map((_, i) => last(i))),
        [names.rejectedRows]: int64Feed(items.map((_, i) => last(P + i))),
        [pairInputNames.margins]: floatFeed(items.map((p) => options.margin?.(p) ?? 0)),
        [pairInputNames.weights]: floatFeed(new Float32Array(P).fill(1 / normalizer)),
      };
    },
    metrics(items, fetched) {
      const w = fetched[names.chosen].data as Float32Array;
      const l = fetched[names.rejected].data as Float32Array;
      const sums = { accuracy: 0, 'rewards/chosen': 0, 'rewards/rejected': 0, 'rewards/margins': 0 };
      items.forEach((_, i) => {
        sums.accuracy += w[i] > l[i] ? 1 : 0;
        sums['rewards/chosen'] += w[i];
        sums['rewards/rejected'] += l[i];
        sums['rewards/margins'] += w[i] - l[i];
      });
      return { sums, count: items.length };
    },
  };
}
