import type { Tokenizer } from '../tokenizers/tokenizer.ts';
import { commonPrefixLength, encodeWithBos } from './prompt-format.ts';

/** A response re-tokenized by a scoring model (weak-to-strong paper, scorer §2.4 of the notes). */
export interface ResponseTokens {
  /** ids of prompt + response (+ EOS when the response ended with EOS) */
  ids: number[];
  /** first scored position: the common prefix with the prompt's own ids (BPE may merge across the boundary) */
  responseStart: number;
  /**
   * how many leading ids further text cannot change: all but the last word (and trailing
   * whitespace) while the response may still grow; all of them once it is finished
   */
  stable: number;
}

/**
 * Tokenizes prompt and response together with the scorer's tokenizer. The whole text is
 * re-tokenized, never the chunks on their own, so the ids are what the model would see for the
 * finished text; an EOS id is added only when the sampling model itself stopped.
 */
export function responseTokens(tokenizer: Tokenizer, prompt: string, promptIds: readonly number[], response: string, ending: { finished: boolean; eos: boolean }): ResponseTokens {
  const text = prompt + response;
  const ids = encodeWithBos(tokenizer, text);
  const responseStart = commonPrefixLength(promptIds, ids);
  if (ending.eos && tokenizer.eosId !== null) ids.push(tokenizer.eosId);
  if (ending.finished) return { ids, responseStart, stable: ids.length };
  return { ids, responseStart, stable: stablePrefix(tokenizer, text, ids) };
}

/**
 * Appending text can re-tokenize only the last word (BPE merges stay inside a pre-token, and
 * SentencePiece pieces start at a space), so ids up to the last whitespace are final. Checked
 * against the head's own tokenization; a tokenizer that breaks the rule just gets a shorter cut.
 */
function stablePrefix(tokenizer: Tokenizer, text: string, ids: readonly number[]): number {
  let cut = text.length;
  while (cut > 0 && !/\s/.test(text[cut - 1])) cut--;
  while (cut > 0 && /\s/.test(text[cut - 1])) cut--;
  if (cut === 0) return Math.min(ids.length, tokenizer.bosId !== null && ids[0] === tokenizer.bosId ? 1 : 0);
  return commonPrefixLength(encodeWithBos(tokenizer, text.slice(0, cut)), ids);
}

/** Ids of a rendered prompt, for `responseTokens`. */
export const promptTokens = (tokenizer: Tokenizer, prompt: string): number[] => encodeWithBos(tokenizer, prompt);
