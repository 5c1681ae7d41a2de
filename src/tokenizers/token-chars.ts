import type { Tokenizer } from './tokenizer.ts';

const longest = new WeakMap<Tokenizer, number>();

/**
 * The most characters one token of a (local) tokenizer decodes to, special tokens included:
 * n tokens never cover more than n times this many characters of text, so text longer than
 * that cannot fit in n tokens and need not be tokenized to know it. Read once per tokenizer.
 */
export function longestTokenChars(tokenizer: Tokenizer): number {
  let chars = longest.get(tokenizer);
  if (chars === undefined) {
    chars = 1;
    for (let id = 0; id < tokenizer.vocabSize; id++)
      chars = Math.max(chars, tokenizer.decode([id], { skipSpecial: false }).length);
    longest.set(tokenizer, chars);
  }
  return chars;
}

/**
 * The characters that can matter when text is cut to `tokens` tokens: twice the bound above, so
 * that a tokenizer which normalizes text (or merges across the cut) still gets every token it
 * keeps from what is left.
 */
export const charsFor = (tokenizer: Tokenizer, tokens: number) => 2 * (tokens + 1) * longestTokenChars(tokenizer);
