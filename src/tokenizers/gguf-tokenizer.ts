/**
 * A GGUF file's tokenizer <-> an HF tokenizer.json + tokenizer_config.json, so a GGUF model runs
 * with the same HfTokenizer as an HF directory, and a model alignkit writes as GGUF carries a
 * vocabulary llama.cpp tokenizes the same way:
 * - `llama` (SentencePiece pieces + scores) <-> the Llama-2 BPE layout (sentencepiece-to-hf.ts);
 *   written from an HF tokenizer.json, the scores are the merges' ranks (higher merges first).
 * - `gpt2` (byte-level BPE + merges) <-> a BPE model with the pre-tokenizer llama.cpp names in
 *   `tokenizer.ggml.pre` (GPT-2's, Llama 3's or Qwen2's regex).
 */
import { formatError, inputError } from '../errors.ts';
import type { GgufVocabulary } from '../models/gguf/gguf-vocabulary.ts';
import { HfTokenizer, type AddedTokenJson, type TokenizerConfigJson, type TokenizerJson } from './hf-tokenizer.ts';
import { Llama2cTokenizer } from './llama2c-tokenizer.ts';
import { llama2cPieces } from './llama2c-to-hf.ts';
import { PieceType, sentencePieceToHf } from './sentencepiece-to-hf.ts';

const LLAMA3_REGEX =
  "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
const QWEN2_REGEX =
  "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

const byteLevel = (useRegex: boolean) => ({
  type: 'ByteLevel',
  add_prefix_space: false,
  trim_offsets: true,
  use_regex: useRegex,
});
const splitThenBytes = (regex: string) => ({
  type: 'Sequence',
  pretokenizers: [{ type: 'Split', pattern: { Regex: regex }, behavior: 'Isolated', invert: false }, byteLevel(false)],
});

/** llama.cpp's `tokenizer.ggml.pre` names alignkit reads and writes, with the HF pre-tokenizer of each. */
const PRE_TOKENIZERS: Record<string, { preTokenizer: unknown; normalizer: unknown; ignoreMerges: boolean }> = {
  'gpt-2': { preTokenizer: byteLevel(true), normalizer: null, ignoreMerges: false },
  'llama-bpe': { preTokenizer: splitThenBytes(LLAMA3_REGEX), normalizer: null, ignoreMerges: true },
  qwen2: { preTokenizer: splitThenBytes(QWEN2_REGEX), normalizer: { type: 'NFC' }, ignoreMerges: false },
};

export interface HfTokenizerParts {
  tokenizerJson: TokenizerJson;
  tokenizerConfig: TokenizerConfigJson;
}

/** Builds the tokenizer a GGUF file describes; `source` (the file) is named in errors. */
export function ggufTokenizer(v: GgufVocabulary, source: string): HfTokenizer {
  const { tokenizerJson, tokenizerConfig } = ggufVocabularyToHf(v, source);
  return new HfTokenizer(tokenizerJson, tokenizerConfig, source, { chatTemplate: v.chatTemplate });
}

export function ggufVocabularyToHf(v: GgufVocabulary, source: string): HfTokenizerParts {
  const name = (id: number | null) => (id === null ? null : v.tokens[id]);
  if (v.model === 'llama') {
    if (v.scores === null)
      throw formatError('missing: a llama (SentencePiece) vocabulary needs its scores', {
        file: source,
        field: 'tokenizer.ggml.scores',
      });
    const { tokenizerJson, tokenizerConfig } = sentencePieceToHf({
      pieces: v.tokens,
      scores: v.scores,
      types: v.tokenTypes,
      unkId: v.unkId,
      bosId: v.bosId,
      eosId: v.eosId,
      padId: v.padId,
      addBos: v.addBos,
      addEos: v.addEos,
      source,
    });
    return { tokenizerJson, tokenizerConfig };
  }
  const pre = PRE_TOKENIZERS[v.pre ?? ''];
  if (!pre)
    throw formatError(
      `${v.pre === null ? 'missing' : `pre-tokenizer "${v.pre}" is not supported`} (supported: ${Object.keys(PRE_TOKENIZERS).join(', ')})`,
      { file: source, field: 'tokenizer.ggml.pre' },
    );
  const vocab: Record<string, number> = {};
  v.tokens.forEach((t, id) => {
    if (Object.hasOwn(vocab, t))
      throw formatError(`tokens ${vocab[t]} and ${id} are the same "${t}"`, {
        file: source,
        field: 'tokenizer.ggml.tokens',
      });
    vocab[t] = id;
  });
  const added: AddedTokenJson[] = [];
  v.tokens.forEach((content, id) => {
    const type = v.tokenTypes[id];
    if (type === PieceType.CONTROL || type === PieceType.USER_DEFINED || type === PieceType.UNKNOWN)
      added.push({
        id,
        content,
        single_word: false,
        lstrip: false,
        rstrip: false,
        normalized: false,
        special: type !== PieceType.USER_DEFINED,
      });
  });
  return {
    tokenizerJson: {
      version: '1.0',
      truncation: null,
      padding: null,
      added_tokens: added,
      normalizer: pre.normalizer,
      pre_tokenizer: pre.preTokenizer,
      post_processor: null,
      decoder: byteLevel(true),
      model: {
        type: 'BPE',
        dropout: null,
        unk_token: name(v.unkId),
        continuing_subword_prefix: null,
        end_of_word_suffix: null,
        fuse_unk: false,
        byte_fallback: false,
        ignore_merges: pre.ignoreMerges,
        vocab,
        merges: v.merges ?? [],
      },
    },
    tokenizerConfig: {
      add_bos_token: v.addBos,
      add_eos_token: v.addEos,
      bos_token: name(v.bosId),
      eos_token: name(v.eosId),
      ...(v.unkId !== null ? { unk_token: name(v.unkId) } : {}),
      ...(v.padId !== null ? { pad_token: name(v.padId) } : {}),
      clean_up_tokenization_spaces: false,
    },
  };
}

/** The GGUF vocabulary of a tokenizer alignkit loaded (llama2.c, or an HF tokenizer.json of a supported kind). */
export function tokenizerToGgufVocabulary(tok: HfTokenizer | Llama2cTokenizer): GgufVocabulary {
  if (tok instanceof Llama2cTokenizer) {
    const { pieces, types } = llama2cPieces(tok);
    return {
      ...specialIds(tok),
      model: 'llama',
      pre: null,
      tokens: pieces,
      scores: tok.scores,
      tokenTypes: types,
      merges: null,
      unkId: 0,
      addBos: true,
      addEos: false,
      chatTemplate: null,
    };
  }
  const tokens = tokensById(tok);
  const added = new Map((tok.json.added_tokens ?? []).map((t) => [t.id, t]));
  const unkName = (tok.json.model as { unk_token?: unknown }).unk_token;
  const unkId = typeof unkName === 'string' ? (tok.tokenToId(unkName) ?? null) : null;
  const common = {
    ...specialIds(tok),
    tokens,
    unkId,
    addBos: tok.addBosByDefault,
    addEos: tok.config.add_eos_token === true,
    chatTemplate: tok.chatTemplate.source,
  };
  const merges = mergeStrings(tok);
  if (isSentencePieceLayout(tok.json)) {
    const types = tokens.map((t, id) => {
      const a = added.get(id);
      if (id === unkId) return PieceType.UNKNOWN;
      if (a) return a.special ? PieceType.CONTROL : PieceType.USER_DEFINED;
      return /^<0x[0-9A-F]{2}>$/.test(t) ? PieceType.BYTE : PieceType.NORMAL;
    });
    return {
      ...common,
      model: 'llama',
      pre: null,
      tokens,
      scores: scoresFromMerges(tokens, merges),
      tokenTypes: Int32Array.from(types),
      merges: null,
    };
  }
  const pre = Object.entries(PRE_TOKENIZERS).find(
    ([, p]) => JSON.stringify(p.preTokenizer) === JSON.stringify(normalizePre(tok.json.pre_tokenizer)),
  )?.[0];
  if (tok.json.model.type !== 'BPE' || !pre)
    throw inputError(
      `this tokenizer.json (model ${JSON.stringify(tok.json.model.type)}, pre-tokenizer ${JSON.stringify((tok.json.pre_tokenizer as { type?: string } | null)?.type ?? null)}) has no GGUF equivalent alignkit writes (SentencePiece-style BPE, or byte-level BPE with GPT-2's, Llama 3's or Qwen2's pre-tokenizer)`,
      { file: tok.source, field: 'pre_tokenizer' },
    );
  const types = tokens.map((_, id) => {
    const a = added.get(id);
    return a ? (a.special ? PieceType.CONTROL : PieceType.USER_DEFINED) : PieceType.NORMAL;
  });
  return { ...common, model: 'gpt2', pre, scores: null, tokenTypes: Int32Array.from(types), merges };
}

function specialIds(tok: HfTokenizer | Llama2cTokenizer) {
  const padId = tok instanceof HfTokenizer && tok.config.pad_token !== undefined ? tok.padId : null;
  return { bosId: tok.bosId, eosId: tok.eosId, padId };
}

function tokensById(tok: HfTokenizer): string[] {
  const tokens: string[] = [];
  for (let id = 0; id < tok.vocabSize; id++) {
    const t = tok.idToToken(id);
    if (t === undefined)
      throw inputError(`token id ${id} has no token (a GGUF vocabulary has no holes)`, { file: tok.source });
    tokens.push(t);
  }
  return tokens;
}

function mergeStrings(tok: HfTokenizer): string[] {
  const merges = (tok.json.model as { merges?: unknown }).merges;
  if (!Array.isArray(merges)) return [];
  return merges.map((m) => (Array.isArray(m) ? m.join(' ') : String(m)));
}

/** The piece a merge of rank r makes scores −r (earlier merges win, as higher scores do); other pieces score below all merges. */
function scoresFromMerges(tokens: string[], merges: string[]): Float32Array {
  const scores = new Float32Array(tokens.length).fill(NaN);
  const idOf = new Map(tokens.map((t, id) => [t, id]));
  merges.forEach((m, rank) => {
    const space = m.indexOf(' ');
    const id = idOf.get(m.slice(0, space) + m.slice(space + 1));
    if (id !== undefined && Number.isNaN(scores[id])) scores[id] = -rank;
  });
  for (let id = 0; id < scores.length; id++) if (Number.isNaN(scores[id])) scores[id] = -(merges.length + id);
  return scores;
}

type DecoderStep = { type?: string; decoders?: DecoderStep[]; pattern?: { String?: string } };

function isSentencePieceLayout(json: TokenizerJson): boolean {
  const model = json.model as { type?: string; byte_fallback?: boolean };
  const decoder = json.decoder as DecoderStep | null | undefined;
  return (
    model.type === 'BPE' &&
    model.byte_fallback === true &&
    decoder?.type === 'Sequence' &&
    decoder.decoders?.[0]?.type === 'Replace' &&
    decoder.decoders[0].pattern?.String === '▁'
  );
}

/** Defaults filled in so a written-out pre-tokenizer compares equal to the table's. */
function normalizePre(pre: unknown): unknown {
  const p = pre as { type?: string; pretokenizers?: unknown[]; add_prefix_space?: boolean; use_regex?: boolean } | null;
  if (!p) return p;
  if (p.type === 'ByteLevel') return byteLevel(p.use_regex ?? true);
  if (p.type === 'Sequence' && p.pretokenizers?.length === 2) {
    const [split, bytes] = p.pretokenizers as { type?: string; pattern?: { Regex?: string }; use_regex?: boolean }[];
    if (split.type === 'Split' && bytes.type === 'ByteLevel' && bytes.use_regex === false && split.pattern?.Regex)
      return splitThenBytes(split.pattern.Regex);
  }
  return p;
}
