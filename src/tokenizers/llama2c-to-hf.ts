/**
 * Converts a llama2.c tokenizer (pieces + scores) to an HF tokenizer.json in the Llama-2 layout:
 * normalizer Prepend("▁") + Replace(" "→"▁"), no pre-tokenizer, a BPE model with byte_fallback,
 * decoder Replace("▁"→" ") + ByteFallback + Fuse + Strip(1 leading space).
 *
 * Why the encodings equal llama2.c's: run.c repeatedly merges the adjacent pair whose
 * concatenation is a piece with the highest score (leftmost among equals). An HF BPE model merges
 * the listed pair with the lowest rank (leftmost among equals). So the merges list holds every
 * split (left, right) of every piece where both halves are pieces, ranked by the score of the
 * whole piece (higher first). Two different splits of the same piece can never be candidates
 * at the same time: the text under both would have evolved through the same merges (a region's
 * merges depend only on its own pieces' scores until something merges across its border), so it
 * would be split the same way. The one thing a rank list cannot express is two different pieces
 * with the same score competing: `tiedScores` counts mergeable pieces whose score another one
 * shares (0 for tokenizers exported from SentencePiece, whose scores are distinct).
 * Remaining, documented differences: HF splits out the literal special-token texts "<s>", "</s>",
 * "<unk>" before encoding, and a literal "▁" in the text reads as a space.
 */
import { formatError } from '../errors.ts';
import type { TokenizerConfigJson, TokenizerJson } from './hf-tokenizer.ts';
import { LLAMA2C_BYTE_OFFSET, LLAMA2C_SPECIAL_NAMES, type Llama2cTokenizer } from './llama2c-tokenizer.ts';

const SPIECE_UNDERLINE = '▁';
const NEVER_MERGES_AT_OR_BELOW = -1e10;

export interface ConvertedTokenizer {
  tokenizerJson: TokenizerJson;
  tokenizerConfig: TokenizerConfigJson;
  /** Mergeable pieces whose score equals another mergeable piece's (0 = the conversion is exact). */
  tiedScores: number;
}

export function llama2cToHfTokenizer(
  tok: Llama2cTokenizer,
  options: { modelMaxLength?: number } = {},
): ConvertedTokenizer {
  const utf8 = new TextDecoder('utf-8', { fatal: true });
  const names: string[] = [];
  for (let id = 0; id < tok.vocabSize; id++) {
    if (id < LLAMA2C_SPECIAL_NAMES.length) {
      names.push(LLAMA2C_SPECIAL_NAMES[id]);
      continue;
    }
    let text: string;
    try {
      text = utf8.decode(tok.pieces[id]);
    } catch {
      throw formatError(`token ${id} is not valid UTF-8, so it cannot be a tokenizer.json piece`, { file: tok.source });
    }
    const byte = id - LLAMA2C_BYTE_OFFSET;
    if (byte < 256) {
      const expected = `<0x${byte.toString(16).toUpperCase().padStart(2, '0')}>`;
      if (text !== expected)
        throw formatError(`token ${id} is "${text}", expected the byte-fallback piece ${expected}`, {
          file: tok.source,
        });
    }
    names.push(text.replaceAll(' ', SPIECE_UNDERLINE));
  }

  const vocab: Record<string, number> = {};
  for (let id = 0; id < names.length; id++) {
    if (Object.hasOwn(vocab, names[id]))
      throw formatError(`tokens ${vocab[names[id]]} and ${id} are the same piece "${names[id]}"`, { file: tok.source });
    vocab[names[id]] = id;
  }

  const candidates: { left: string; right: string; score: number; id: number; split: number }[] = [];
  const scoreCount = new Map<number, number>();
  for (let id = LLAMA2C_SPECIAL_NAMES.length; id < names.length; id++) {
    const score = tok.scores[id];
    if (score <= NEVER_MERGES_AT_OR_BELOW) continue;
    const chars = Array.from(names[id]);
    let mergeable = false;
    for (let split = 1; split < chars.length; split++) {
      const left = chars.slice(0, split).join('');
      const right = chars.slice(split).join('');
      if (isMergePart(vocab, left) && isMergePart(vocab, right)) {
        candidates.push({ left, right, score, id, split });
        mergeable = true;
      }
    }
    if (mergeable) scoreCount.set(score, (scoreCount.get(score) ?? 0) + 1);
  }
  candidates.sort((a, b) => b.score - a.score || a.id - b.id || a.split - b.split);
  let tiedScores = 0;
  for (const n of scoreCount.values()) if (n > 1) tiedScores += n;

  const specials = LLAMA2C_SPECIAL_NAMES.map((content, id) => ({
    id,
    content,
    single_word: false,
    lstrip: false,
    rstrip: false,
    normalized: false,
    special: true,
  }));
  const bos = LLAMA2C_SPECIAL_NAMES[1];
  const tokenizerJson: TokenizerJson = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: specials,
    normalizer: {
      type: 'Sequence',
      normalizers: [
        { type: 'Prepend', prepend: SPIECE_UNDERLINE },
        { type: 'Replace', pattern: { String: ' ' }, content: SPIECE_UNDERLINE },
      ],
    },
    pre_tokenizer: null,
    post_processor: {
      type: 'TemplateProcessing',
      single: [{ SpecialToken: { id: bos, type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }],
      pair: [
        { SpecialToken: { id: bos, type_id: 0 } },
        { Sequence: { id: 'A', type_id: 0 } },
        { SpecialToken: { id: bos, type_id: 1 } },
        { Sequence: { id: 'B', type_id: 1 } },
      ],
      special_tokens: { [bos]: { id: bos, ids: [1], tokens: [bos] } },
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
      unk_token: LLAMA2C_SPECIAL_NAMES[0],
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
    add_bos_token: true,
    add_eos_token: false,
    bos_token: LLAMA2C_SPECIAL_NAMES[1],
    eos_token: LLAMA2C_SPECIAL_NAMES[2],
    unk_token: LLAMA2C_SPECIAL_NAMES[0],
    clean_up_tokenization_spaces: false,
    legacy: true,
    ...(options.modelMaxLength !== undefined ? { model_max_length: options.modelMaxLength } : {}),
  };
  return { tokenizerJson, tokenizerConfig, tiedScores };
}

function isMergePart(vocab: Record<string, number>, piece: string): boolean {
  return Object.hasOwn(vocab, piece) && vocab[piece] >= LLAMA2C_SPECIAL_NAMES.length;
}
