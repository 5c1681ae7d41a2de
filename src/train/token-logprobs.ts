/**
 * The LM head run only on scored rows: log p(target | prefix) for chosen flattened positions.
 * Prompt and padding rows never reach the vocabulary projection, in the forward or the
 * backward pass.
 *
 * Its gradient is written by hand (cross-entropy through the head): with p = softmax(logits),
 * g the upstream gradient per row and W the head [V, D],
 *   ∂h = g ⊙ (W[target] − p·W)      ∂W = scatter_add(target, g ⊙ h) − pᵀ·(g ⊙ h)
 * so the only [rows, V] tensors ever written are the log-softmax and p: the one-hot term
 * becomes a row gather and a row scatter, and g scales [rows, D] tensors instead of [rows, V]
 * ones (generic differentiation writes about eight [rows, V] tensors).
 */
import { defineGradient } from '../engine/autodiff.ts';
import { swapLast, transposed } from '../engine/grad-helpers.ts';
import type { Graph, Value } from '../engine/graph.ts';
import type { Ops } from '../engine/ops.ts';
import { embed, type FrozenQuantizedMatrix } from '../models/parameters.ts';
import type { Feed } from '../engine/session.ts';
import { lmHead } from '../models/transformer.ts';
import { softcap } from '../models/attention.ts';
import { int64Feed, type ScoredRows } from './batch-tensors.ts';
import type { LossContext } from './objective.ts';

export const scoredRowNames = { rows: 'score_rows', targets: 'score_targets' } as const;

/** [N] log-probs of `score_targets` at `score_rows` of the flattened [B·T] positions. */
export function targetLogprobs({ o, g, cfg, params, hidden }: LossContext): Value {
  const rows = g.input(scoredRowNames.rows, 'int64', ['N']);
  const targets = g.input(scoredRowNames.targets, 'int64', ['N']);
  const h = o.gather(o.reshape(hidden, [-1, cfg.hiddenSize]), rows);
  const { weight, softcap: cap } = lmHead(cfg, params);
  // a frozen quantized head (QLoRA) is multiplied a range of rows at a time, never whole as floats
  const frozen = cap === null ? (params.frozenQuantized?.(weight) ?? null) : null;
  if (frozen) return frozenHeadLogprobs(o, g, h, frozen, (ids) => embed(o, params, weight, ids), targets);
  const headT = params.linear(weight); // [D, V]
  const targetColumn = o.unsqueeze(targets, [1]);
  // soft-capped logits (Gemma 2) take the generic autodiff path; the hand-written gradient below is for plain ones
  if (cap !== null)
    return o.squeeze(o.gatherElements(o.logSoftmax(softcap(o, o.matmul(h, headT), cap), -1), targetColumn, 1), [1]);
  const logSoftmax = o.logSoftmax(o.matmul(h, headT), -1);
  const logp = o.squeeze(o.gatherElements(logSoftmax, targetColumn, 1), [1]);
  // the head as [V, D]: the weight itself when it is fed transposed (trained), else a transpose of a constant
  const head = headT.producer?.op === 'Transpose' ? headT.producer.inputs[0] : undefined;
  defineGradient(g, logp, {
    inputs: [h, head ?? headT],
    grad(o, dy, needs) {
      const gRow = o.unsqueeze(dy, [1]);
      const p = o.exp(logSoftmax);
      const W = head ?? transposed(o, headT, [1, 0]);
      const dh = needs[0] ? o.mul(gRow, o.sub(o.gather(W, targets), o.matmul(p, W))) : null;
      let dW: Value | null = null;
      if (needs[1]) {
        const gh = o.mul(gRow, h);
        const dHead = o.scatterNDAdd(o.matmul(swapLast(o, p), o.neg(gh)), targetColumn, gh);
        dW = head ? dHead : transposed(o, dHead, [1, 0]);
      }
      return [dh, dW];
    },
  });
  return logp;
}

/** targetLogprobs over a frozen quantized head: ∂h = g ⊙ (W[target] − p·W), with W's rows gathered and p·W taken range by range. */
function frozenHeadLogprobs(
  o: Ops,
  g: Graph,
  h: Value,
  head: FrozenQuantizedMatrix,
  headRows: (ids: Value) => Value,
  targets: Value,
): Value {
  const targetColumn = o.unsqueeze(targets, [1]);
  const logSoftmax = o.logSoftmax(head.times(h), -1);
  const logp = o.squeeze(o.gatherElements(logSoftmax, targetColumn, 1), [1]);
  defineGradient(g, logp, {
    inputs: [h],
    grad: (o, dy) => [
      o.mul(o.unsqueeze(dy, [1]), o.sub(headRows(targets), head.transposedTimes(o.exp(logSoftmax), o))),
    ],
  });
  return logp;
}

export function scoredRowFeeds(rows: ScoredRows): Record<string, Feed> {
  return { [scoredRowNames.rows]: int64Feed(rows.rows), [scoredRowNames.targets]: int64Feed(rows.targets) };
}
