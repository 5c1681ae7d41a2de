/**
 * Tokenizing prompt + response for training, and fitting them into the maximum length.
 *
 * The whole text is tokenized at once with one BOS (what the model sees at inference, and what
 * alignkit's scorers tokenize); the response starts where the ids stop agreeing with the
 * prompt's own ids (a BPE merge across the boundary moves at most a token into the response).
 * EOS is appended to plain-text responses; chat-templated ones end with the template's own
 * end-of-turn text.
 *
 * Truncation (counted and reported): the response is kept and the prompt is cut from the left,
 * keeping its first token (BOS); when a response alone does not fit, it keeps its first
 * max_length − 1 tokens (losing EOS) after that first prompt token.
 */
import type { Tokenizer } from '../../tokenizers/tokenizer.ts';
import { charsFor } from '../../tokenizers/token-chars.ts';
import { commonPrefixLength, encodeWithBos } from '../../lm/prompt-format.ts';
import type { RenderedExample } from './render.ts';

/**
 * Cuts text that cannot fit `maxLength` tokens before it is tokenized, so that one huge line
 * costs no more than a line that fits: the response keeps its beginning and the prompt its end
 * (what fitToLength keeps of them), each with room to spare; `cut` says the example was truncated.
 */
export function boundCharacters(
  tokenizer: Tokenizer,
  ex: RenderedExample,
  maxLength: number,
): { example: RenderedExample; cut: boolean } {
  const room = charsFor(tokenizer, maxLength);
  if (ex.prompt.length <= room && ex.response.length <= room) return { example: ex, cut: false };
  return {
    example: { ...ex, prompt: ex.prompt.slice(-room), response: ex.response.slice(0, room) },
    cut: true,
  };
}

export interface TokenizedResponse {
  /** prompt ids then response ids (EOS included) */
  ids: number[];
  responseStart: number;
}

export function tokenizeExample(tokenizer: Tokenizer, ex: RenderedExample, promptIds = encodeWithBos(tokenizer, ex.prompt)): TokenizedResponse {
  const ids = encodeWithBos(tokenizer, ex.prompt + ex.response);
  const responseStart = Math.max(1, Math.min(commonPrefixLength(promptIds, ids), promptIds.length));
  if (!ex.chat && tokenizer.eosId !== null && ids[ids.length - 1] !== tokenizer.eosId) ids.push(tokenizer.eosId);
  return { ids, responseStart };
}

/**
 * Fits a prompt and its responses into `maxLength` tokens as described above. Returns the new
 * prompt and responses and whether anything was cut.
 */
export function fitToLength(prompt: readonly number[], responses: readonly (readonly number[])[], maxLength: number): { prompt: number[]; responses: number[][]; truncated: boolean } {
  const longest = Math.max(...responses.map((r) => r.length));
  if (prompt.length + longest <= maxLength) return { prompt: [...prompt], responses: responses.map((r) => [...r]), truncated: false };
  const budget = maxLength - 1;
  const kept = Math.max(0, maxLength - 1 - Math.min(longest, budget));
  const cutPrompt = [prompt[0], ...(kept > 0 ? prompt.slice(Math.max(1, prompt.length - kept)) : [])];
  return { prompt: cutPrompt, responses: responses.map((r) => r.slice(0, budget)), truncated: true };
}
