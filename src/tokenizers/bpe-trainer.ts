/**
 * Trains a byte-level BPE tokenizer (GPT-2 style: GPT-2's pre-tokenization pattern, the
 * bytes_to_unicode alphabet, all 256 bytes in the base vocabulary so every text encodes) and
 * returns a tokenizer.json that @huggingface/tokenizers loads.
 *
 * The classic algorithm: count pre-tokenized words, count adjacent symbol pairs weighted by word
 * frequency, repeatedly merge the most frequent pair (ties: the pair of smaller ids), updating
 * only the words that contain it. A lazy max-heap finds the best pair. Deterministic.
 */
import { inputError } from '../errors.ts';
import type { TokenizerConfigJson, TokenizerJson } from './hf-tokenizer.ts';
import { BYTE_TO_CHAR, pretokenize } from './byte-level.ts';
import { BinaryHeap } from './binary-heap.ts';
import { ByteLevelBpeEncoder } from './byte-level-bpe.ts';

export interface BpeTrainingProgress {
  phase: 'count' | 'merge';
  done: number;
  total: number;
}

export interface BpeTrainingOptions {
  /** Final vocabulary size: 256 bytes + merges + special tokens. */
  vocabSize: number;
  /** The first one is bos, eos and pad (default ['<|endoftext|>']). */
  specialTokens?: readonly string[];
  /** Pairs seen fewer times are never merged (default 2). */
  minFrequency?: number;
  /** Written as add_bos_token (and a post-processor that adds it); default false, as GPT-2. */
  addBos?: boolean;
  modelMaxLength?: number;
  onProgress?: (p: BpeTrainingProgress) => void;
}

export interface TrainedBpe {
  tokenizerJson: TokenizerJson;
  tokenizerConfig: TokenizerConfigJson;
  /** The learned merges in rank order. */
  merges: [string, string][];
  /** Encodes as the saved tokenizer.json does. */
  encoder: ByteLevelBpeEncoder;
}

const PAIR_KEY_BASE = 2 ** 24;

export function trainByteLevelBpe(corpus: string | Iterable<string>, options: BpeTrainingOptions): TrainedBpe {
  const specialTokens = options.specialTokens ?? ['<|endoftext|>'];
  const minFrequency = options.minFrequency ?? 2;
  const targetMerges = options.vocabSize - 256 - specialTokens.length;
  if (!Number.isInteger(options.vocabSize) || targetMerges < 0) {
    throw inputError(
      `vocabulary size must be an integer of at least ${256 + specialTokens.length} (256 bytes + special tokens), got ${options.vocabSize}`,
      { field: 'vocabSize' },
    );
  }
  if (specialTokens.length === 0)
    throw inputError('at least one special token is needed (it serves as bos/eos/pad)', { field: 'specialTokens' });

  const { words, counts } = countWords(
    typeof corpus === 'string' ? [corpus] : corpus,
    specialTokens,
    options.onProgress,
  );
  const strings: string[] = BYTE_TO_CHAR.slice();
  const idOfString = new Map(strings.map((s, id) => [s, id]));
  const merges: [string, string][] = [];

  const pairCount = new Map<number, number>();
  const pairWords = new Map<number, number[]>();
  /** Adds (or removes) word w's pairs; `grown` collects the pairs with `symbol` whose count grew. */
  const addPairs = (w: number, sign: 1 | -1, grown?: { symbol: number; keys: Set<number> }) => {
    const word = words[w];
    const freq = counts[w] * sign;
    for (let i = 0; i + 1 < word.length; i++) {
      const key = word[i] * PAIR_KEY_BASE + word[i + 1];
      pairCount.set(key, (pairCount.get(key) ?? 0) + freq);
      if (sign > 0) {
        let list = pairWords.get(key);
        if (!list) pairWords.set(key, (list = []));
        if (list[list.length - 1] !== w) list.push(w);
        if (grown && (word[i] === grown.symbol || word[i + 1] === grown.symbol)) grown.keys.add(key);
      }
    }
  };
  for (let w = 0; w < words.length; w++) addPairs(w, 1);
  // Most frequent first; ties: the smaller key, i.e. the pair of smaller ids.
  const heap = new BinaryHeap<{ count: number; key: number }>(
    (a, b) => a.count > b.count || (a.count === b.count && a.key < b.key),
  );
  for (const [key, count] of pairCount) heap.push({ count, key });

  const seenInMerge = new Int32Array(words.length).fill(-1);
  while (merges.length < targetMerges && heap.size > 0) {
    const top = heap.pop();
    const current = pairCount.get(top.key) ?? 0;
    if (current !== top.count) {
      // Stale entry: a lower count is re-queued; a higher one was queued when it grew.
      if (current > 0 && current < top.count) heap.push({ count: current, key: top.key });
      continue;
    }
    if (current < minFrequency) break;
    const left = Math.floor(top.key / PAIR_KEY_BASE);
    const right = top.key % PAIR_KEY_BASE;
    const mergedString = strings[left] + strings[right];
    let merged = idOfString.get(mergedString);
    if (merged === undefined) {
      merged = strings.length;
      strings.push(mergedString);
      idOfString.set(mergedString, merged);
    }
    merges.push([strings[left], strings[right]]);

    const grown = { symbol: merged, keys: new Set<number>() };
    for (const w of pairWords.get(top.key) ?? []) {
      if (seenInMerge[w] === merges.length) continue;
      seenInMerge[w] = merges.length;
      const word = words[w];
      if (!containsPair(word, left, right)) continue;
      addPairs(w, -1);
      words[w] = replacePair(word, left, right, merged);
      addPairs(w, 1, grown);
    }
    pairWords.delete(top.key);
    for (const key of grown.keys) heap.push({ count: pairCount.get(key)!, key });
    options.onProgress?.({ phase: 'merge', done: merges.length, total: targetMerges });
  }

  const vocab = new Map<string, number>(strings.map((s, id) => [s, id]));
  const specialBase = strings.length;
  specialTokens.forEach((s, i) => vocab.set(s, specialBase + i));
  return {
    ...tokenizerFiles(vocab, merges, specialTokens, specialBase, options),
    merges,
    encoder: new ByteLevelBpeEncoder(vocab, merges, specialTokens),
  };
}

/** Unique pre-tokenized words (as byte ids) and how often each occurs; special tokens are cut out. */
function countWords(
  texts: Iterable<string>,
  specialTokens: readonly string[],
  onProgress?: (p: BpeTrainingProgress) => void,
) {
  const frequency = new Map<string, number>();
  let done = 0;
  for (const text of texts) {
    let parts = [text];
    for (const special of specialTokens) parts = parts.flatMap((p) => p.split(special));
    for (const part of parts) for (const word of pretokenize(part)) frequency.set(word, (frequency.get(word) ?? 0) + 1);
    done += text.length;
    onProgress?.({ phase: 'count', done, total: done });
  }
  const words: number[][] = [];
  const counts: number[] = [];
  const utf8 = new TextEncoder();
  for (const [word, count] of frequency) {
    words.push(Array.from(utf8.encode(word)));
    counts.push(count);
  }
  return { words, counts };
}

function containsPair(word: readonly number[], left: number, right: number): boolean {
  for (let i = 0; i + 1 < word.length; i++) if (word[i] === left && word[i + 1] === right) return true;
  return false;
}

function replacePair(word: readonly number[], left: number, right: number, merged: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < word.length; i++) {
    if (i + 1 < word.length && word[i] === left && word[i + 1] === right) {
      out.push(merged);
      i++;
    } else {
      out.push(word[i]);
    }
  }
  return out;
}

function tokenizerFiles(
  vocab: Map<string, number>,
  merges: [string, string][],
  specialTokens: readonly string[],
  specialBase: number,
  options: BpeTrainingOptions,
) {
  const special = specialTokens[0];
  const byteLevel = { add_prefix_space: false, trim_offsets: true, use_regex: true };
  const addBos = options.addBos ?? false;
  const tokenizerJson: TokenizerJson = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: specialTokens.map((content, i) => ({
      id: specialBase + i,
      content,
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: false,
      special: true,
    })),
    normalizer: null,
    pre_tokenizer: { type: 'ByteLevel', ...byteLevel },
    post_processor: addBos
      ? {
          type: 'TemplateProcessing',
          single: [{ SpecialToken: { id: special, type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }],
          pair: [
            { SpecialToken: { id: special, type_id: 0 } },
            { Sequence: { id: 'A', type_id: 0 } },
            { SpecialToken: { id: special, type_id: 1 } },
            { Sequence: { id: 'B', type_id: 1 } },
          ],
          special_tokens: { [special]: { id: special, ids: [specialBase], tokens: [special] } },
        }
      : { type: 'ByteLevel', ...byteLevel, trim_offsets: false },
    decoder: { type: 'ByteLevel', ...byteLevel },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      vocab: Object.fromEntries([...vocab].filter(([, id]) => id < specialBase)),
      // Byte-level strings never contain a space, so the "left right" form is unambiguous.
      merges: merges.map(([l, r]) => `${l} ${r}`),
    },
  };
  const tokenizerConfig: TokenizerConfigJson = {
    tokenizer_class: 'PreTrainedTokenizerFast',
    bos_token: special,
    eos_token: special,
    pad_token: special,
    add_bos_token: addBos,
    add_eos_token: false,
    clean_up_tokenization_spaces: false,
    ...(specialTokens.length > 1 ? { additional_special_tokens: specialTokens.slice(1) } : {}),
    ...(options.modelMaxLength !== undefined ? { model_max_length: options.modelMaxLength } : {}),
  };
  return { tokenizerJson, tokenizerConfig };
}
