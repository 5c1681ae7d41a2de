/** Supervised fine-tuning: token cross-entropy over response tokens (the prompt masked), averaged over the step's response tokens. */
import { floatFeed, packSequences, scoredRows } from './batch-tensors.ts';
import type { SftExample } from './examples.ts';
import { sftLength } from './examples.ts';
import type { Objective } from './objective.ts';
import { scoredRowFeeds, targetLogprobs } from './token-logprobs.ts';

const TOKEN_WEIGHTS = 'token_weights';

const sequence = (e: SftExample) => [...e.promptIds, ...e.responseIds];
/** tokens scored: every response token that has a token before it */
const scored = (e: SftExample) => e.responseIds.length - (e.promptIds.length === 0 ? 1 : 0);

export function sftObjective(): Objective<SftExample> {
  return {
    kind: 'sft',
    addLoss(ctx) {
      const logp = targetLogprobs(ctx);
      const weights = ctx.g.input(TOKEN_WEIGHTS, 'float32', ['N']);
      const loss = ctx.o.neg(ctx.o.reduceSum(ctx.o.mul(logp, weights), [0], false));
      return { loss, outputs: {} };
    },
    normalizer: (items) => items.reduce((a, e) => a + scored(e), 0),
    sequences: (items) => items.map(sequence),
    length: sftLength,
    feeds(items, normalizer) {
      const seqs = items.map(sequence);
      const packed = packSequences(seqs);
      const rows = scoredRows(
        seqs,
        items.map((e) => e.promptIds.length),
        packed.length,
      );
      return {
        ...packed.feeds,
        ...scoredRowFeeds(rows),
        [TOKEN_WEIGHTS]: floatFeed(new Float32Array(rows.rows.length).fill(1 / normalizer)),
      };
    },
    // the loss is the metric (mean token cross-entropy)
    metrics: (items) => ({ sums: {}, count: items.length }),
  };
}
