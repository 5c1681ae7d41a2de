/**
 * A SentencePiece-style vocabulary (pieces with "▁" for spaces, scores, byte-fallback pieces
 * <0x00>..<0xFF>) as an HF tokenizer.json in the Llama-2 layout: normalizer Prepend("▁") +
 * Replace(" "→"▁"), no pre-tokenizer, a BPE model with byte_fallback, decoder Replace("▁"→" ") +
 * ByteFallback + Fuse + Strip(1 leading space). Used for llama2.c tokenizers and for GGUF
 * `llama` vocabularies.
 *
 * Why the encodings equal SentencePiece's (and llama2.c's and llama.cpp's): those repeatedly merge
 * the adjacent pair whose concatenation is a piece with the highest score (leftmost among equals).
 * An HF BPE model merges the listed pair with the lowest rank (leftmost among equals). So the
 * merges list holds every split (left, right) of every piece where both halves are pieces, ranked
 * by the score of the whole piece (higher first). Two different splits of the same piece can never
 * be candidates at the same time: the text under both would have evolved through the same merges
 * (a region's merges depend only on its own pieces' scores until something merges across its
 * border), so it would be split the same way. The one thing a rank list cannot express is two
 * different pieces with the same score competing: `tiedScores` counts mergeable pieces whose
 * score another one shares (0 for tokenizers exported from SentencePiece, whose scores are distinct).
 */
import { formatError } from '../errors.ts';
import type { AddedTokenJson, TokenizerConfigJson, TokenizerJson } from './hf-tokenizer.ts';

export const SPIECE_UNDERLINE = '▁';
/** Pieces scored at or below this never merge (llama2.c's convention for its special pieces). */
const NEVER_MERGES_AT_OR_BELOW = -1e10;

/** How a piece takes part in tokenization (tokenizer.ggml.token_type's numbering). */
export const PieceType = { NORMAL: 1, UNKNOWN: 2, CONTROL: 3, USER_DEFINED: 4, UNUSED: 5, BYTE: 6 } as const;

export interface SentencePieceVocabulary {
  /** piece texts, "▁" for a space */
  pieces: readonly string[];
  scores: ArrayLike<number>;
  types: ArrayLike<number>;
  unkId: number | null;
  bosId: number | null;
  eosId: number | null;
  padId?: number | null;
  addBos: boolean;
  addEos: boolean;
  /** named in errors */
  source: string;
}

export interface ConvertedTokenizer {
  tokenizerJson: TokenizerJson;
  tokenizerConfig: TokenizerConfigJson;
  /** Mergeable pieces whose score equals another mergeable piece's (0 = the conversion is exact). */
  tiedScores: number;
}

const isSpecialType = (type: number) => type === PieceType.CONTROL || type === PieceType.UNKNOWN;

export function sentencePieceToHf(v: SentencePieceVocabulary): ConvertedTokenizer {
  const { pieces, scores, types } = v;
  const vocab: Record<string, number> = {};
  for (let id = 0; id < pieces.length; id++) {
    if (Object.hasOwn(vocab, pieces[id]))
      throw formatError(`tokens ${vocab[pieces[id]]} and ${id} are the same piece "${pieces[id]}"`, { file: v.source });
    vocab[pieces[id]] = id;
  }
  const isMergePart = (piece: string) => Object.hasOwn(vocab, piece) && !isSpecialType(types[vocab[piece]]);

  const candidates: { left: string; right: string; score: number; id: number; split: number }[] = [];
  const scoreCount = new Map<number, number>();
  for (let id = 0; id < pieces.length; id++) {
    const score = scores[id];
    if (types[id] !== PieceType.NORMAL || score <= NEVER_MERGES_AT_OR_BELOW) continue;
    const chars = Array.from(pieces[id]);
    let mergeable = false;
    for (let split = 1; split < chars.length; split++) {
      const left = chars.slice(0, split).join('');
      const right = chars.slice(split).join('');
      if (isMergePart(left) && isMergePart(right)) {
        candidates.push({ left, right, score, id, split });
        mergeable = true;
      }
    }
    if (mergeable) scoreCount.set(score, (scoreCount.get(score) ?? 0) + 1);
  }
  candidates.sort((a, b) => b.score - a.score || a.id - b.id || a.split - b.split);
  let tiedScores = 0;
  for (const n of scoreCount.values()) if (n > 1) tiedScores += n;

  const added: AddedTokenJson[] = [];
  for (let id = 0; id < pieces.length; id++) {
    if (isSpecialType(types[id]) || types[id] === PieceType.USER_DEFINED)
      added.push({
        id,
        content: pieces[id],
        single_word: false,
        lstrip: false,
        rstrip: false,
        normalized: false,
        special: types[id] !== PieceType.USER_DEFINED,
      });
  }
  const name = (id: number | null | undefined) => (id === null || id === undefined ? null : pieces[id]);
  const bos = name(v.bosId);
  const tokenizerJson: TokenizerJson = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: added,
    normalizer: {
      type: 'Sequence',
      normalizers: [
        { type: 'Prepend', prepend: SPIECE_UNDERLINE },
        { type: 'Replace', pattern: { String: ' ' }, content: SPIECE_UNDERLINE },
      ],
    },
    pre_tokenizer: null,
    post_processor:
      bos === null || !v.addBos
        ? null
        : {
            type: 'TemplateProcessing',
            single: [{ SpecialToken: { id: bos, type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }],
            pair: [
              { SpecialToken: { id: bos, type_id: 0 } },
              { Sequence: { id: 'A', type_id: 0 } },
              { SpecialToken: { id: bos, type_id: 1 } },
              { Sequence: { id: 'B', type_id: 1 } },
            ],
            special_tokens: { [bos]: { id: bos, ids: [v.bosId], tokens: [bos] } },
          },
    decoder: {
      type: 'Sequence',
      decoders: [
        { type: 'Replace', pattern: { String: SPIECE_UNDERLINE }, content: ' ' },
        { type: 'ByteFallback' },
        { type: 'Fuse' },
        { type: 'Strip', content: ' ', start: 1, stop: 0 },
      ],
    },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: name(v.unkId),
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: true,
      byte_fallback: true,
      ignore_merges: false,
      vocab,
      // "a b" strings are the widely read form; pieces with a space need the pair form.
      merges: candidates.some((c) => c.left.includes(' ') || c.right.includes(' '))
        ? candidates.map((c) => [c.left, c.right])
        : candidates.map((c) => `${c.left} ${c.right}`),
    },
  };
  const tokenizerConfig: TokenizerConfigJson = {
    tokenizer_class: 'LlamaTokenizerFast',
    add_bos_token: v.addBos,
    add_eos_token: v.addEos,
    bos_token: bos,
    eos_token: name(v.eosId),
    unk_token: name(v.unkId),
    ...(v.padId !== undefined && v.padId !== null ? { pad_token: name(v.padId) } : {}),
    clean_up_tokenization_spaces: false,
    legacy: true,
  };
  return { tokenizerJson, tokenizerConfig, tiedScores };
}
