import type { GgufVocabulary } from '../../src/models/gguf/gguf-vocabulary.ts';

/** A byte-level vocabulary of `n` distinct tokens (enough for weight round trips). */
export function toyVocabulary(n: number, bosId = 1, eosId = 2): GgufVocabulary {
  return {
    model: 'gpt2',
    pre: 'gpt-2',
    tokens: Array.from({ length: n }, (_, i) => `t${i}`),
    scores: null,
    tokenTypes: new Int32Array(n).fill(1),
    merges: [],
    bosId,
    eosId,
    unkId: null,
    padId: null,
    addBos: false,
    addEos: false,
    chatTemplate: null,
  };
}
