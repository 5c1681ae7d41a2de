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
export function responseTokens(
  tokenizer: Tokenizer,
  prompt: string,
  promptIds: readonly number[],
  response: string,
  ending: { finished: boolean; eos: boolean },
): ResponseTokens {
  const text = prompt + response;
  const ids = encodeMemo(tokenizer, text);
  const responseStart = commonPrefixLength(promptIds, ids);
  if (ending.eos && tokenizer.eosId !== null) ids.push(tokenizer.eosId);
  if (ending.finished) return { ids, responseStart, stable: ids.length };
  return { ids, responseStart, stable: stablePrefix(tokenizer, text, ids) };
}

/**
 * Appending text can re-tokenize only the last word (BPE merges stay inside a pre-token, and
 * SentencePiece pieces start at a space), so ids that decode to text before the last whitespace
 * are final. Found by bisection on decoded prefixes (decoding is far cheaper than encoding); a
 * prefix that ends inside a multi-byte character just makes the cut shorter.
 */
function stablePrefix(tokenizer: Tokenizer, text: string, ids: readonly number[]): number {
  let cut = text.length;
  while (cut > 0 && !/\s/.test(text[cut - 1])) cut--;
  while (cut > 0 && /\s/.test(text[cut - 1])) cut--;
  const head = text.slice(0, cut);
  const within = (j: number) => {
    const decoded = tokenizer.decode(ids.slice(0, j));
    return decoded.length <= head.length && head.startsWith(decoded);
  };
  let lo = 0,
    hi = ids.length; // within(lo) holds (nothing decodes to ""), find the largest such j
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (within(mid)) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/** Ids of a rendered prompt, for `responseTokens`. */
export const promptTokens = (tokenizer: Tokenizer, prompt: string): number[] => encodeMemo(tokenizer, prompt);

const MEMO_ENTRIES = 512;
const memos = new WeakMap<Tokenizer, Map<string, number[]>>();

/**
 * encodeWithBos with a small per-tokenizer memo: the tuned and untuned models usually share a
 * tokenizer and a prompt, so each text is encoded once per round, not once per model.
 */
function encodeMemo(tokenizer: Tokenizer, text: string): number[] {
  let memo = memos.get(tokenizer);
  if (!memo) memos.set(tokenizer, (memo = new Map()));
  let ids = memo.get(text);
  if (!ids) {
    ids = encodeWithBos(tokenizer, text);
    if (memo.size >= MEMO_ENTRIES) memo.delete(memo.keys().next().value!);
    memo.set(text, ids);
  }
  return [...ids];
}
