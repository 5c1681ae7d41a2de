/**
 * The tokenizer a GGUF file carries (`tokenizer.ggml.*` and `tokenizer.chat_template`, docs/gguf.md
 * "Tokenizer") as a plain record, read and written here; turning it into a runnable tokenizer is
 * the tokenizers layer's job (tokenizers/gguf-tokenizer.ts).
 */
import type { GgufEntry, GgufFile } from './gguf-file.ts';
import { gguf } from './gguf-writer.ts';

/** tokenizer.ggml.token_type values. */
export const TokenType = { NORMAL: 1, UNKNOWN: 2, CONTROL: 3, USER_DEFINED: 4, UNUSED: 5, BYTE: 6 } as const;

export interface GgufVocabulary {
  /** 'llama': SentencePiece pieces with scores; 'gpt2': byte-level BPE with merges */
  model: 'llama' | 'gpt2';
  /** the byte-level BPE pre-tokenizer (llama.cpp's name for its regex), e.g. 'gpt-2', 'llama-bpe', 'qwen2' */
  pre: string | null;
  tokens: string[];
  scores: ArrayLike<number> | null;
  tokenTypes: ArrayLike<number>;
  merges: string[] | null;
  bosId: number | null;
  eosId: number | null;
  unkId: number | null;
  padId: number | null;
  addBos: boolean;
  addEos: boolean;
  chatTemplate: string | null;
}

const MODELS = ['llama', 'gpt2'] as const;

export function readGgufVocabulary(file: GgufFile): GgufVocabulary {
  const model = file.string('tokenizer.ggml.model');
  if (!(MODELS as readonly string[]).includes(model))
    throw file.error(
      'tokenizer.ggml.model',
      `tokenizer model "${model}" is not supported (supported: ${MODELS.join(', ')})`,
    );
  const tokens = file.stringArray('tokenizer.ggml.tokens');
  const n = tokens.length;
  const sameLength = <T extends ArrayLike<unknown>>(key: string, values: T | null): T | null => {
    if (values !== null && values.length !== n)
      throw file.error(key, `has ${values.length} entries but tokenizer.ggml.tokens has ${n}`);
    return values;
  };
  const scores = sameLength('tokenizer.ggml.scores', file.numberArray('tokenizer.ggml.scores', true));
  const tokenTypes =
    sameLength('tokenizer.ggml.token_type', file.numberArray('tokenizer.ggml.token_type', true)) ??
    new Int32Array(n).fill(TokenType.NORMAL);
  const merges = file.stringArray('tokenizer.ggml.merges', true);
  if (model === 'gpt2' && merges === null)
    throw file.error('tokenizer.ggml.merges', 'missing (a gpt2 tokenizer needs its merges)');
  const id = (key: string) => {
    const value = file.count(key, null);
    if (value !== null && value >= n) throw file.error(key, `token id ${value} is outside the ${n} tokens`);
    return value;
  };
  return {
    model: model as GgufVocabulary['model'],
    pre: file.string('tokenizer.ggml.pre', null),
    tokens,
    scores,
    tokenTypes,
    merges,
    bosId: id('tokenizer.ggml.bos_token_id'),
    eosId: id('tokenizer.ggml.eos_token_id'),
    unkId: id('tokenizer.ggml.unknown_token_id'),
    padId: id('tokenizer.ggml.padding_token_id'),
    // llama.cpp's defaults: SentencePiece vocabularies add BOS, BPE ones do not
    addBos: file.boolean('tokenizer.ggml.add_bos_token', model === 'llama')!,
    addEos: file.boolean('tokenizer.ggml.add_eos_token', false)!,
    chatTemplate: file.string('tokenizer.chat_template', null),
  };
}

export function ggufVocabularyMetadata(v: GgufVocabulary): [string, GgufEntry][] {
  const entries: [string, GgufEntry][] = [['tokenizer.ggml.model', gguf.string(v.model)]];
  if (v.pre !== null) entries.push(['tokenizer.ggml.pre', gguf.string(v.pre)]);
  entries.push(['tokenizer.ggml.tokens', gguf.strings(v.tokens)]);
  if (v.scores) entries.push(['tokenizer.ggml.scores', gguf.f32s(v.scores)]);
  entries.push(['tokenizer.ggml.token_type', gguf.i32s(v.tokenTypes)]);
  if (v.merges) entries.push(['tokenizer.ggml.merges', gguf.strings(v.merges)]);
  const ids: [string, number | null][] = [
    ['tokenizer.ggml.bos_token_id', v.bosId],
    ['tokenizer.ggml.eos_token_id', v.eosId],
    ['tokenizer.ggml.unknown_token_id', v.unkId],
    ['tokenizer.ggml.padding_token_id', v.padId],
  ];
  for (const [key, id] of ids) if (id !== null) entries.push([key, gguf.u32(id)]);
  entries.push(
    ['tokenizer.ggml.add_bos_token', gguf.bool(v.addBos)],
    ['tokenizer.ggml.add_eos_token', gguf.bool(v.addEos)],
  );
  if (v.chatTemplate !== null) entries.push(['tokenizer.chat_template', gguf.string(v.chatTemplate)]);
  return entries;
}
