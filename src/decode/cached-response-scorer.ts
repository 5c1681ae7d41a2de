import { type DecodeState, type LanguageModel, requireDecoding } from '../lm/language-model.ts';
import { AlignkitError, inputError } from '../errors.ts';
import type { ScoreInput } from './scorer.ts';
import type { BeamScorer } from './chunk-beam-search.ts';
import { type ResponseTokens, promptTokens, responseTokens } from '../lm/response-tokens.ts';

/** Where a row's cache comes from this round. */
type Source = 'current' | 'snapshot' | 'fresh';

/**
 * What a cached scorer reads: `logprob` = log p_model(response | prompt), summed over the
 * response ids; `value` = a reward/value model's scalar head at the last id (IVG's V(x, y≤t)).
 */
export type Readout = 'logprob' | 'value';

/**
 * Scores a batch of growing responses, keeping the model's KV cache across chunks and beams:
 * each round runs only the ids that are new since the row's last round, for all rows in one
 * batched append.
 *
 * Responses are re-tokenized as whole texts (as the reference does), and appending text can
 * change the ids of a row's last word. The cache therefore holds everything appended so far,
 * optimistically, plus a snapshot of each row at a point that later text cannot re-tokenize
 * (before its last word). A row whose cached ids no longer prefix its new ids resumes from its
 * snapshot (counted in `rollbacks`); if a tokenizer breaks even that, the row is recomputed
 * from scratch (`rebuilds`). Rows from different sources are joined with DecodeState.concat,
 * so the scores are always exact.
 */
export class CachedResponseScorer implements BeamScorer {
  /** rows resumed from their snapshot because the ids of their last word changed */
  rollbacks = 0;
  /** rows recomputed from scratch because earlier ids changed (0 with ordinary tokenizers) */
  rebuilds = 0;

  readonly name: string;

  private constructor(
    readonly model: LanguageModel,
    private readonly readout: Readout,
    private readonly prompt: string,
    private readonly promptIds: number[],
    /** row i holds ids[i] */
    private state: DecodeState,
    /** row i holds ids[i].slice(0, snapshotLength[i]) */
    private snapshot: DecodeState,
    private ids: number[][],
    /** tokenLogprobs[i][j] = log p(ids[i][j] | ids[i][<j]); NaN where never computed (prompt head) */
    private tokenLogprobs: number[][],
    private snapshotLength: number[],
    /** scores of finished rows, which never change */
    private frozen: (number | null)[],
  ) {
    this.name = readout === 'value' ? `value(${model.id})` : `log p(${model.id})`;
  }

  static async open(
    model: LanguageModel,
    prompt: string,
    size: number,
    readout: Readout = 'logprob',
  ): Promise<CachedResponseScorer> {
    const promptIds = promptTokens(model.tokenizer, prompt);
    if (promptIds.length === 0)
      throw inputError(
        `the prompt for "${model.id}" encodes to no tokens; scoring needs at least one token of context`,
        { field: 'prompt' },
      );
    if (promptIds.length >= model.capabilities.maxContext)
      throw inputError(
        `the prompt is ${promptIds.length} tokens for model "${model.id}", which has a context of ${model.capabilities.maxContext} tokens`,
        { field: 'prompt' },
      );
    const cut = Math.max(
      1,
      responseTokens(model.tokenizer, prompt, promptIds, '', { finished: false, eos: false }).stable,
    );
    const head = await requireDecoding(model, 'cached response scoring')([promptIds.slice(0, cut)]);
    if (!head.concat) {
      head.close();
      throw new AlignkitError(
        'capability',
        `model "${model.id}" has decode states without concat, which cached search scoring needs; its responses are re-scored from scratch instead`,
      );
    }
    if (readout === 'value' && !head.scalars) {
      head.close();
      throw new AlignkitError(
        'capability',
        `model "${model.id}" has decode states without a scalar head, which cached value scoring needs; its responses are re-scored from scratch instead`,
      );
    }
    const whole = head.fork([0]);
    const rest = promptIds.length > cut ? (await whole.append([promptIds.slice(cut)]))[0] : [];
    const state = whole.fork(new Array(size).fill(0));
    const snapshot = head.fork(new Array(size).fill(0));
    whole.close();
    head.close();
    const logprobs = [...new Array(cut).fill(NaN), ...rest];
    return new CachedResponseScorer(
      model,
      readout,
      prompt,
      promptIds,
      state,
      snapshot,
      Array.from({ length: size }, () => [...promptIds]),
      Array.from({ length: size }, () => [...logprobs]),
      new Array(size).fill(cut),
      new Array(size).fill(null),
    );
  }

  /**
   * Every row's score: log p(response | prompt) summed over the response ids, or the scalar head
   * at the last id (EOS included in both when the row ended with it).
   */
  async score(rows: readonly ScoreInput[]): Promise<number[]> {
    const { tokenizer, capabilities } = this.model;
    const targets = rows.map((row, i): ResponseTokens | null => {
      if (this.frozen[i] !== null) return null;
      const t = responseTokens(tokenizer, this.prompt, this.promptIds, row.response, {
        finished: row.finishReason !== null,
        eos: row.finishReason === 'eos',
      });
      if (t.ids.length > capabilities.maxContext)
        throw inputError(
          `prompt + response is ${t.ids.length} tokens for model "${this.model.id}", over its context of ${capabilities.maxContext}; lower --max-new-tokens`,
          { field: 'max-new-tokens' },
        );
      return t;
    });

    const sources = targets.map((t, i): Source => {
      if (!t || startsWith(t.ids, this.ids[i])) return 'current';
      if (startsWith(t.ids, this.ids[i].slice(0, this.snapshotLength[i]))) return 'snapshot';
      return 'fresh';
    });
    const base = await this.baseState(sources, targets);
    sources.forEach((source, i) => {
      if (source === 'snapshot') {
        this.rollbacks++;
        this.truncate(i, this.snapshotLength[i]);
      }
      if (source === 'fresh') {
        this.rebuilds++;
        this.ids[i] = targets[i]!.ids.slice(0, 1);
        this.tokenLogprobs[i] = [NaN];
      }
    });

    // rows whose cache ends before their last word become the new snapshot (state before the append)
    const fromBase = targets.map((t, i) => t !== null && this.ids[i].length <= t.stable);
    const snapshot = this.assemble([
      { state: base, rows: indicesWhere(fromBase, true) },
      { state: this.snapshot, rows: indicesWhere(fromBase, false) },
    ]);
    this.snapshot.close();
    this.snapshot = snapshot;
    fromBase.forEach((yes, i) => {
      if (yes) this.snapshotLength[i] = this.ids[i].length;
    });

    const chunks = targets.map((t, i) => (t ? t.ids.slice(this.ids[i].length) : []));
    if (chunks.some((c) => c.length > 0)) {
      const appended = await base.append(chunks);
      chunks.forEach((chunk, i) => {
        this.ids[i].push(...chunk);
        this.tokenLogprobs[i].push(...appended[i]);
      });
    }
    if (base !== this.state) this.state.close();
    this.state = base;

    const values = this.readout === 'value' ? this.state.scalars!() : [];
    return rows.map((row, i) => {
      if (this.frozen[i] !== null) return this.frozen[i]!;
      let score = 0;
      if (this.readout === 'value') score = values[i];
      else {
        const lps = this.tokenLogprobs[i];
        for (let j = Math.max(1, targets[i]!.responseStart); j < lps.length; j++) score += lps[j];
      }
      if (row.finishReason !== null) this.frozen[i] = score;
      return score;
    });
  }

  /** The cache to append to: the current one, or one joined from current rows, snapshots and fresh rows. */
  private async baseState(
    sources: readonly Source[],
    targets: readonly (ResponseTokens | null)[],
  ): Promise<DecodeState> {
    if (sources.every((s) => s === 'current')) return this.state;
    const freshRows = indicesWhere(
      sources.map((s) => s === 'fresh'),
      true,
    );
    const fresh = freshRows.length
      ? await requireDecoding(this.model, 'cached response scoring')(freshRows.map((i) => targets[i]!.ids.slice(0, 1)))
      : null;
    try {
      return this.assemble([
        {
          state: this.state,
          rows: indicesWhere(
            sources.map((s) => s === 'current'),
            true,
          ),
        },
        {
          state: this.snapshot,
          rows: indicesWhere(
            sources.map((s) => s === 'snapshot'),
            true,
          ),
        },
        ...(fresh ? [{ state: fresh, rows: freshRows.map((_, k) => k), as: freshRows }] : []),
      ]);
    } finally {
      fresh?.close();
    }
  }

  /**
   * A new state whose row i comes from the part listing i: parts give source states and the rows
   * they supply (by default row r of the source becomes row r; `as` renames them).
   */
  private assemble(parts: readonly { state: DecodeState; rows: number[]; as?: number[] }[]): DecodeState {
    const used = parts.filter((p) => p.rows.length > 0);
    const pieces = used.map((p) => p.state.fork(p.rows));
    let joined = pieces[0];
    for (const piece of pieces.slice(1)) {
      const next = joined.concat!(piece);
      joined.close();
      piece.close();
      joined = next;
    }
    const order = used.flatMap((p) => p.as ?? p.rows);
    if (order.every((row, k) => row === k)) return joined;
    const position = new Array<number>(order.length);
    order.forEach((row, k) => {
      position[row] = k;
    });
    const sorted = joined.fork(position);
    joined.close();
    return sorted;
  }

  private truncate(i: number, length: number): void {
    this.ids[i] = this.ids[i].slice(0, length);
    this.tokenLogprobs[i] = this.tokenLogprobs[i].slice(0, length);
  }

  reorder(indices: readonly number[]): void {
    const [state, snapshot] = [this.state, this.snapshot];
    this.state = state.fork(indices);
    this.snapshot = snapshot.fork(indices);
    state.close();
    snapshot.close();
    this.ids = indices.map((i) => [...this.ids[i]]);
    this.tokenLogprobs = indices.map((i) => [...this.tokenLogprobs[i]]);
    this.snapshotLength = indices.map((i) => this.snapshotLength[i]);
    this.frozen = indices.map((i) => this.frozen[i]);
  }

  close(): void {
    this.state.close();
    this.snapshot.close();
  }
}

function startsWith(ids: readonly number[], prefix: readonly number[]): boolean {
  if (ids.length < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (ids[i] !== prefix[i]) return false;
  return true;
}

const indicesWhere = (flags: readonly boolean[], value: boolean): number[] =>
  flags.flatMap((f, i) => (f === value ? [i] : []));
