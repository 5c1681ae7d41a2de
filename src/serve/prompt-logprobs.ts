import { type LanguageModel, requireDecoding, requireScoring } from '../lm/language-model.ts';
import { badRequest } from './errors.ts';
import { rankOf, topTokens, type TokenLogprob } from './top-tokens.ts';

/** A prompt token's log-prob given the tokens before it. */
export interface PromptPosition {
  logprob: number;
  /** top alternatives at that position (as many as asked) */
  top: TokenLogprob[];
  /** 1 + the number of more likely tokens; undefined when only the token's own log-prob was computed */
  rank?: number;
}

/** Fails early (before a stream starts) when the model cannot give what is asked. */
export function checkPromptLogprobs(model: LanguageModel, topK: number, withRank: boolean): void {
  if ((topK > 0 || withRank) && !model.capabilities.fullLogits) {
    throw badRequest(
      'top alternatives and ranks of prompt tokens need a model with full next-token distributions',
      'logprobs',
      'unsupported',
    );
  }
  if (!model.capabilities.scoring && !model.capabilities.fullLogits) {
    throw badRequest('log-probs of prompt tokens need a model that can score', 'logprobs', 'unsupported');
  }
}

/**
 * Log-probs of every prompt token after the first (the first has no context: null). With no
 * alternatives and no ranks asked, one batched `score` call; otherwise the prompt is stepped
 * through a DecodeState to read each position's distribution (needs full distributions).
 */
export async function promptLogprobs(
  model: LanguageModel,
  ids: readonly number[],
  topK: number,
  withRank: boolean,
  signal?: AbortSignal,
): Promise<(PromptPosition | null)[]> {
  if (ids.length === 0) return [];
  if (ids.length === 1) return [null];
  checkPromptLogprobs(model, topK, withRank);
  if (topK === 0 && !withRank) {
    const [scored] = await requireScoring(
      model,
      'prompt log-probs',
    )([{ prefix: ids.slice(0, 1), continuation: ids.slice(1) }]);
    return [null, ...scored.logprobs.map((logprob) => ({ logprob, top: [] }))];
  }
  const state = await requireDecoding(model, 'prompt log-probs')([ids.slice(0, 1)]);
  try {
    const out: (PromptPosition | null)[] = [null];
    for (let i = 1; i < ids.length; i++) {
      signal?.throwIfAborted();
      const { data, vocab } = await state.nextLogprobs();
      out.push({
        logprob: data[ids[i]],
        top: topTokens(data, 0, vocab, topK),
        rank: withRank ? rankOf(data, 0, vocab, ids[i]) : undefined,
      });
      if (i + 1 < ids.length) await state.append([[ids[i]]]);
    }
    return out;
  } finally {
    state.close();
  }
}
