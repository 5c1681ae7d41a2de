import type { DecodeState, LanguageModel } from '../lm/language-model.ts';
import { inputError } from '../errors.ts';
import type { ScoreInput } from './scorer.ts';
import { type ResponseTokens, promptTokens, responseTokens } from './response-tokens.ts';

/**
 * log p_model(response | prompt) for a batch of growing responses, keeping the model's KV cache
 * across chunks and beams: each call runs only the ids that are new since the row's last
 * call. Ids that later text could still re-tokenize (the last word) are scored on a throwaway
 * fork, so the cache only ever holds final ids; if a tokenizer does re-tokenize earlier ids
 * anyway, the cache is rebuilt from scratch (exact, counted in `rebuilds`).
 */
export class CachedResponseLogprob {
  /** times the cache had to be recomputed from scratch because earlier ids changed */
  rebuilds = 0;

  private constructor(
    readonly model: LanguageModel,
    private readonly prompt: string,
    private readonly promptIds: number[],
    private state: DecodeState,
    /** ids held by the cache, per row */
    private cached: number[][],
    /** Σ log-probs of the cached response ids, per row */
    private cachedSum: number[],
    /** scores of finished rows, which never change */
    private frozen: (number | null)[],
  ) {}

  static async open(model: LanguageModel, prompt: string, size: number): Promise<CachedResponseLogprob> {
    const promptIds = promptTokens(model.tokenizer, prompt);
    if (promptIds.length === 0) throw inputError(`the prompt for "${model.id}" encodes to no tokens; scoring needs at least one token of context`, { field: 'prompt' });
    if (promptIds.length >= model.capabilities.maxContext)
      throw inputError(`the prompt is ${promptIds.length} tokens for model "${model.id}", which has a context of ${model.capabilities.maxContext} tokens`, { field: 'prompt' });
    const start = Math.max(1, responseTokens(model.tokenizer, prompt, promptIds, '', { finished: false, eos: false }).stable);
    const head = promptIds.slice(0, start);
    const single = await model.open([head]);
    const state = single.fork(new Array(size).fill(0));
    single.close();
    return new CachedResponseLogprob(model, prompt, promptIds, state, Array.from({ length: size }, () => [...head]), new Array(size).fill(0), new Array(size).fill(null));
  }

  /** log p(response | prompt) of every row (summed over response ids, EOS included when the row ended with it). */
  async logprobs(rows: readonly ScoreInput[]): Promise<number[]> {
    const { tokenizer, capabilities } = this.model;
    const targets = rows.map((row, i): ResponseTokens | null => {
      if (this.frozen[i] !== null) return null;
      const t = responseTokens(tokenizer, this.prompt, this.promptIds, row.response, { finished: row.finishReason !== null, eos: row.finishReason === 'eos' });
      if (t.ids.length > capabilities.maxContext)
        throw inputError(`prompt + response is ${t.ids.length} tokens for model "${this.model.id}", over its context of ${capabilities.maxContext}; lower --max-new-tokens`, { field: 'max-new-tokens' });
      return t;
    });
    if (targets.some((t, i) => t && !extendsCache(t.ids, this.cached[i]))) await this.rebuild(targets);

    const stableChunks = targets.map((t, i) => (t ? t.ids.slice(this.cached[i].length, Math.max(t.stable, this.cached[i].length)) : []));
    if (stableChunks.some((c) => c.length > 0)) {
      const lps = await this.state.append(stableChunks);
      stableChunks.forEach((chunk, i) => {
        const t = targets[i];
        if (!t || chunk.length === 0) return;
        this.cachedSum[i] += sumFrom(lps[i], this.cached[i].length, t.responseStart);
        this.cached[i].push(...chunk);
      });
    }

    const tails = targets.map((t, i) => (t ? t.ids.slice(this.cached[i].length) : []));
    const tailSums = new Array(rows.length).fill(0);
    if (tails.some((c) => c.length > 0)) {
      const scratch = this.state.fork(rows.map((_, i) => i));
      try {
        const lps = await scratch.append(tails);
        tails.forEach((tail, i) => {
          const t = targets[i];
          if (t && tail.length > 0) tailSums[i] = sumFrom(lps[i], this.cached[i].length, t.responseStart);
        });
      } finally {
        scratch.close();
      }
    }

    return rows.map((row, i) => {
      if (this.frozen[i] !== null) return this.frozen[i]!;
      const score = this.cachedSum[i] + tailSums[i];
      if (row.finishReason !== null) this.frozen[i] = score;
      return score;
    });
  }

  /** Recomputes the cache for every live row from its first id (rare: see the class comment). */
  private async rebuild(targets: readonly (ResponseTokens | null)[]): Promise<void> {
    this.rebuilds++;
    const keep = targets.map((t, i) => (t ? t.ids.slice(0, Math.max(1, t.stable)) : this.cached[i].slice(0, 1)));
    const fresh = await this.model.open(keep.map((ids) => ids.slice(0, 1)));
    let lps: number[][];
    try {
      lps = await fresh.append(keep.map((ids) => ids.slice(1)));
    } catch (e) {
      fresh.close();
      throw e;
    }
    this.state.close();
    this.state = fresh;
    keep.forEach((ids, i) => {
      this.cached[i] = ids;
      const t = targets[i];
      if (t) this.cachedSum[i] = sumFrom(lps[i], 1, t.responseStart);
    });
  }

  reorder(indices: readonly number[]): void {
    const old = this.state;
    this.state = old.fork(indices);
    old.close();
    this.cached = indices.map((i) => [...this.cached[i]]);
    this.cachedSum = indices.map((i) => this.cachedSum[i]);
    this.frozen = indices.map((i) => this.frozen[i]);
  }

  close(): void { this.state.close(); }
}

function extendsCache(ids: readonly number[], cached: readonly number[]): boolean {
  if (ids.length < cached.length) return false;
  for (let i = 0; i < cached.length; i++) if (ids[i] !== cached[i]) return false;
  return true;
}

/** Σ of the log-probs of ids at absolute positions ≥ responseStart, given that lps[0] is position `offset`. */
function sumFrom(lps: readonly number[], offset: number, responseStart: number): number {
  let sum = 0;
  for (let j = Math.max(0, responseStart - offset); j < lps.length; j++) sum += lps[j];
  return sum;
}
