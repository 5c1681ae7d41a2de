/**
 * Explicit value model for integrated value guidance: a scalar head V(x, y≤t) regressed onto the
 * final reward R(x, y) of the whole response at EVERY prefix y≤t of it (FUDGE-style: the value of
 * a partial response is the expected reward of its completions; with one sampled completion per
 * prefix, the regression target is that completion's reward). One forward pass per response gives
 * every prefix's value, so training costs the same as a reward model on the full responses.
 * Loss: mean over prefixes of (V − R)².
 */
import { floatFeed, int64Feed, packSequences } from './batch-tensors.ts';
import type { Objective } from './objective.ts';
import { initRewardHead, rewardAt } from './reward-objective.ts';
import type { Provenance } from './examples.ts';

/** A prompt, a sampled response (EOS included when it ended with one) and the response's reward. */
export interface ValueExample extends Provenance {
  promptIds: number[];
  responseIds: number[];
  reward: number;
}

const names = { rows: 'value_rows', targets: 'value_targets', weights: 'value_weights', values: 'values' } as const;

export function valueObjective(): Objective<ValueExample> {
  return {
    kind: 'value',
    extraWeights: initRewardHead,
    addLoss(ctx) {
      const { o, g } = ctx;
      const values = rewardAt(ctx, names.rows);
      const targets = g.input(names.targets, 'float32', ['P']);
      const weights = g.input(names.weights, 'float32', ['P']);
      const err = o.sub(values, targets);
      return { loss: o.reduceSum(o.mul(o.mul(err, err), weights), [0], false), outputs: { [names.values]: values } };
    },
    normalizer: (items) => items.reduce((a, e) => a + e.responseIds.length, 0),
    sequences: (items) => items.map((e) => [...e.promptIds, ...e.responseIds]),
    length: (e) => e.promptIds.length + e.responseIds.length,
    feeds(items, normalizer) {
      const seqs = this.sequences(items);
      const packed = packSequences(seqs);
      const rows: number[] = [],
        targets: number[] = [];
      items.forEach((e, b) => {
        // prefix y≤t ends at sequence position promptIds.length + t − 1, for t = 1..|y|
        for (let t = 1; t <= e.responseIds.length; t++) {
          rows.push(b * packed.length + e.promptIds.length + t - 1);
          targets.push(e.reward);
        }
      });
      return {
        ...packed.feeds,
        [names.rows]: int64Feed(rows),
        [names.targets]: floatFeed(Float32Array.from(targets)),
        [names.weights]: floatFeed(new Float32Array(rows.length).fill(1 / normalizer)),
      };
    },
    metrics(items, fetched) {
      const values = fetched[names.values].data as Float32Array;
      let sq = 0,
        lastSq = 0,
        r = 0;
      items.forEach((e) => {
        for (let t = 1; t <= e.responseIds.length; t++, r++) {
          const d = values[r] - e.reward;
          sq += d * d;
          if (t === e.responseIds.length) lastSq += d * d;
        }
      });
      return {
        sums: { mse: sq, 'mse/full_response': lastSq },
        counts: { mse: values.length, 'mse/full_response': items.length },
        count: items.length,
      };
    },
  };
}
