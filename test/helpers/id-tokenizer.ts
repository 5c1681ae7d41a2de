import type { Tokenizer } from '../../src/tokenizers/tokenizer.ts';

/**
 * An ids-only tokenizer for random models without a vocabulary: each character becomes its code
 * modulo the vocabulary size, after `bosId` when one is given.
 */
export const idTokenizer = (vocab: number, bosId: number | null = null): Tokenizer => ({
  vocabSize: vocab,
  bosId,
  eosId: null,
  padId: 0,
  hasChatTemplate: false,
  encode: (text) => [...(bosId === null ? [] : [bosId]), ...Array.from(text, (c) => c.charCodeAt(0) % vocab)],
  decode: (ids) => ids.join(' '),
  applyChatTemplate: (m) => m.map((x) => x.content).join('\n'),
});
