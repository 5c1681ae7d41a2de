/**
 * The DPO family: policy log-probs summed over response tokens (prompt masked, EOS included)
 * against cached reference log-probs, z = c·[h(y_w) − h(y_l)] + m per pair, loss −log σ(z).
 * Plain DPO is c = β, m = 0; MODPO and length-regularized DPO pass their own c and per-pair m.
 */
import type { Value } from '../engine/graph.ts';
import { AlignkitError } from '../errors.ts';
import { floatFeed, packSequences, scoredRows } from './batch-tensors.ts';
import { dpoMetricSums, type DpoLossOptions } from './dpo-metrics.ts';
import type { PreferencePair } from './examples.ts';
import { pairLength } from './examples.ts';
import type { LossContext, Objective } from './objective.ts';
import { pairInputNames, pairLossGraph } from './pair-loss.ts';
import { pairSequences } from './reward-objective.ts';
import { scoredRowFeeds, targetLogprobs } from './token-logprobs.ts';

const names = {
  chosenSelect: 'chosen_select',
  rejectedSelect: 'rejected_select',
  refChosen: 'ref_chosen',
  refRejected: 'ref_rejected',
  scale: 'dpo_scale',
  chosen: 'logps_chosen',
  rejected: 'logps_rejected',
  tokens: 'response_token_logps',
} as const;

export interface DpoObjectiveOptions extends DpoLossOptions {
  /** per-pair margin added to z (MODPO margins, length regularization); default 0 */
  margin?: (pair: PreferencePair) => number;
  /** the objective's name in records (default 'dpo') */
  kind?: string;
}

/**
 * Summed response log-probs per pair, chosen and rejected ([P] each), from one forward over 2P
 * sequences, and the per-token log-probs they sum (`tokens`, [N]).
 */
export function sequenceLogps(ctx: LossContext): { chosen: Value; rejected: Value; tokens: Value } {
  const { o, g } = ctx;
  const tokens = targetLogprobs(ctx);
  const logp = o.unsqueeze(tokens, [1]);
  const sum = (input: string) => o.reshape(o.matmul(g.input(input, 'float32', ['P', 'N']), logp), [-1]);
  return { chosen: sum(names.chosenSelect), rejected: sum(names.rejectedSelect), tokens };
}

/**
 * The summed response log-probs of each pair in float64 from the per-token ones: the same
 * tokens give the same sums whatever the batch (a float32 sum inside the graph depends on the
 * batch's shape), so a policy equal to the reference scores rewards of exactly 0.
 */
export function pairSums(
  items: readonly PreferencePair[],
  tokenLogps: ArrayLike<number>,
): { chosen: number[]; rejected: number[] } {
  const seqs = pairSequences(items);
  const sums = new Array<number>(seqs.length).fill(0);
  let n = 0;
  seqs.forEach((s, b) => {
    const from = Math.max(1, (b < items.length ? items[b] : items[b - items.length]).promptIds.length);
    for (let i = from; i < s.length; i++) sums[b] += tokenLogps[n++];
  });
  if (n !== tokenLogps.length)
    throw new AlignkitError('internal', `${tokenLogps.length} token log-probs for ${n} response tokens`);
  return { chosen: sums.slice(0, items.length), rejected: sums.slice(items.length) };
}

/** Feeds of sequenceLogps: the 2P sequences, scored response rows and each pair's row selectors. */
export function sequenceLogpFeeds(items: readonly PreferencePair[]) {
  const seqs = pairSequences(items);
  const packed = packSequences(seqs);
  const P = items.length;
  const rows = scoredRows(
    seqs,
    [...items, ...items].map((p) => p.promptIds.length),
    packed.length,
  );
  const N = rows.rows.length;
  const chosen = new Float32Array(P * N);
  const rejected = new Float32Array(P * N);
  rows.sequence.forEach((s, n) => {
    if (s < P) chosen[s * N + n] = 1;
    else rejected[(s - P) * N + n] = 1;
  });
  return {
    ...packed.feeds,
    ...scoredRowFeeds(rows),
    [names.chosenSelect]: floatFeed(chosen, [P, N]),
    [names.rejectedSelect]: floatFeed(rejected, [P, N]),
  };
}

export const sequenceLogpOutputs = { chosen: names.chosen, rejected: names.rejected, tokens: names.tokens } as const;

export function dpoObjective(options: DpoObjectiveOptions): Objective<PreferencePair> {
  const reference = (p: PreferencePair, i: number) => {
    if (p.refChosen === undefined || p.refRejected === undefined) {
      throw new AlignkitError(
        'internal',
        `pair ${i} (${p.file} line ${p.line}) has no reference log-probs; compute them before training`,
      );
    }
    return { chosen: p.refChosen, rejected: p.refRejected };
  };
  return {
    kind: options.kind ?? 'dpo',
    addLoss(ctx) {
      const { o, g } = ctx;
      const { chosen, rejected, tokens } = sequenceLogps(ctx);
      const refChosen = g.input(names.refChosen, 'float32', ['P']);
      const refRejected = g.input(names.refRejected, 'float32', ['P']);
      const scale = g.input(names.scale, 'float32', []);
      const margins = g.input(pairInputNames.margins, 'float32', ['P']);
      const weights = g.input(pairInputNames.weights, 'float32', ['P']);
      const delta = o.sub(o.sub(chosen, refChosen), o.sub(rejected, refRejected));
      const z = o.add(o.mul(delta, scale), margins);
      return {
        loss: pairLossGraph(o, z, weights, options.loss ?? 'sigmoid'),
        outputs: { [names.chosen]: chosen, [names.rejected]: rejected, [names.tokens]: tokens },
      };
    },
    normalizer: (items) => items.length,
    sequences: pairSequences,
    length: pairLength,
    feeds(items, normalizer) {
      const refs = items.map(reference);
      return {
        ...sequenceLogpFeeds(items),
        [names.refChosen]: floatFeed(refs.map((r) => r.chosen)),
        [names.refRejected]: floatFeed(refs.map((r) => r.rejected)),
        [names.scale]: { dims: [], data: Float32Array.of(options.scale ?? options.beta) },
        [pairInputNames.margins]: floatFeed(items.map((p) => options.margin?.(p) ?? 0)),
        [pairInputNames.weights]: floatFeed(new Float32Array(items.length).fill(1 / normalizer)),
      };
    },
    metrics(items, fetched) {
      const policy = pairSums(items, fetched[names.tokens].data as Float32Array);
      const pairs = items.map((p, i) => ({
        policyChosen: policy.chosen[i],
        policyRejected: policy.rejected[i],
        refChosen: reference(p, i).chosen,
        refRejected: reference(p, i).rejected,
      }));
      const { loss: _loss, ...sums } = dpoMetricSums(
        pairs,
        options,
        items.map((p) => options.margin?.(p) ?? 0),
      );
      return { sums, count: items.length };
    },
  };
}
