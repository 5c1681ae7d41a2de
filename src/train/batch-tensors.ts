/**
 * Token sequences as the tensors a training graph reads: right-padded ids and positions
 * [B, T], the causal attention bias [B, 1, T, T] (padding masked), and the flattened rows whose
 * next token is scored.
 */
import { int64, type Feed } from '../engine/session.ts';
import { appendBias } from '../lm/native/attention-bias.ts';

export const trainInputNames = { ids: 'input_ids', positions: 'position_ids', bias: 'attn_bias' } as const;

export interface PackedSequences {
  batch: number;
  length: number;
  feeds: Record<string, Feed>;
  /** real (non-pad) tokens */
  tokens: number;
}

export function packSequences(seqs: readonly (readonly number[])[]): PackedSequences {
  const B = seqs.length;
  const T = Math.max(1, ...seqs.map((s) => s.length));
  const ids = new BigInt64Array(B * T);
  const positions = new BigInt64Array(B * T);
  seqs.forEach((s, b) =>
    s.forEach((t, i) => {
      ids[b * T + i] = BigInt(t);
      positions[b * T + i] = BigInt(i);
    }),
  );
  const bias = appendBias(
    seqs.map(() => new Uint8Array(0)),
    0,
    seqs.map((s) => s.length),
    T,
    null,
    seqs.map(() => 0),
  );
  return {
    batch: B,
    length: T,
    tokens: seqs.reduce((a, s) => a + s.length, 0),
    feeds: {
      [trainInputNames.ids]: { dims: [B, T], data: ids },
      [trainInputNames.positions]: { dims: [B, T], data: positions },
      [trainInputNames.bias]: { dims: [B, 1, T, T], data: bias },
    },
  };
}

export interface ScoredRows {
  /** flattened b·T + i positions whose next token is scored */
  rows: number[];
  /** the scored tokens */
  targets: number[];
  /** which sequence each row belongs to */
  sequence: number[];
}

/** Rows predicting tokens [from[b], len) of each sequence (a response after its prompt). */
export function scoredRows(seqs: readonly (readonly number[])[], from: readonly number[], T: number): ScoredRows {
  const out: ScoredRows = { rows: [], targets: [], sequence: [] };
  seqs.forEach((s, b) => {
    for (let i = Math.max(1, from[b]); i < s.length; i++) {
      out.rows.push(b * T + i - 1);
      out.targets.push(s[i]);
      out.sequence.push(b);
    }
  });
  return out;
}

export const int64Feed = (values: readonly number[]): Feed => ({ dims: [values.length], data: int64(values) });
export const floatFeed = (values: ArrayLike<number>, dims: readonly number[] = [values.length]): Feed => ({
  dims,
  data: Float32Array.from(values),
});
