/**
 * A byte-level BPE encoder (GPT-2 style) from a vocabulary and a ranked merges list: special
 * tokens are split out first, the rest is pre-tokenized with GPT-2's pattern, and each word's
 * bytes are merged by rank (lowest first, leftmost among equals) — what @huggingface/tokenizers
 * does with the same tokenizer.json. The BPE trainer uses it for its own encodings.
 */
import { BYTE_TO_CHAR, pretokenize } from './byte-level.ts';
import { mergePairs, type PairMerge } from './pair-merge.ts';
import type { TokenizerConfigJson, TokenizerJson } from './hf-tokenizer.ts';

const utf8 = new TextEncoder();
const PAIR_KEY_BASE = 2 ** 24;

export class ByteLevelBpeEncoder {
  private readonly idOfByte: Int32Array;
  private readonly ranks = new Map<number, PairMerge>();
  private readonly specialIds: ReadonlyMap<string, number>;
  private readonly specialPattern: RegExp | null;
  private readonly wordCache = new Map<string, number[]>();

  /** `merges` in rank order, as pairs of vocabulary strings. */
  constructor(
    vocab: ReadonlyMap<string, number>,
    merges: readonly (readonly [string, string])[],
    specialTokens: readonly string[] = [],
  ) {
    this.idOfByte = new Int32Array(256);
    for (let b = 0; b < 256; b++) {
      const id = vocab.get(BYTE_TO_CHAR[b]);
      if (id === undefined) throw new Error(`byte-level vocabulary lacks the byte ${b}`);
      this.idOfByte[b] = id;
    }
    merges.forEach(([left, right], rank) => {
      const l = vocab.get(left);
      const r = vocab.get(right);
      const merged = vocab.get(left + right);
      if (l === undefined || r === undefined || merged === undefined)
        throw new Error(`merge "${left} ${right}" uses a string outside the vocabulary`);
      const key = l * PAIR_KEY_BASE + r;
      if (!this.ranks.has(key)) this.ranks.set(key, { priority: rank, merged });
    });
    const specialIds = new Map<string, number>();
    for (const s of specialTokens) {
      const id = vocab.get(s);
      if (id === undefined) throw new Error(`special token ${s} is not in the vocabulary`);
      specialIds.set(s, id);
    }
    this.specialIds = specialIds;
    this.specialPattern = specialTokens.length
      ? new RegExp(
          [...specialTokens]
            .sort((a, b) => b.length - a.length)
            .map(escapeRegExp)
            .join('|'),
          'g',
        )
      : null;
  }

  /**
   * An encoder equivalent to @huggingface/tokenizers for a plain GPT-2-style tokenizer.json
   * (no normalizer, ByteLevel pre-tokenizer without prefix space, BPE without dropout or
   * affixes, added tokens without stripping), or null when the tokenizer is anything else.
   */
  static fromTokenizerJson(json: TokenizerJson, config: TokenizerConfigJson): ByteLevelBpeEncoder | null {
    const pre = json.pre_tokenizer as
      { type?: string; add_prefix_space?: boolean; use_regex?: boolean } | null | undefined;
    const model = json.model as {
      type?: string;
      dropout?: number | null;
      continuing_subword_prefix?: string | null;
      end_of_word_suffix?: string | null;
      ignore_merges?: boolean;
      vocab: unknown;
      merges?: unknown;
    };
    const added = json.added_tokens ?? [];
    const plain =
      (json.normalizer ?? null) === null &&
      pre?.type === 'ByteLevel' &&
      !pre.add_prefix_space &&
      pre.use_regex !== false &&
      model.type === 'BPE' &&
      !model.dropout &&
      !model.continuing_subword_prefix &&
      !model.end_of_word_suffix &&
      !model.ignore_merges &&
      model.vocab !== null &&
      typeof model.vocab === 'object' &&
      !Array.isArray(model.vocab) &&
      Array.isArray(model.merges) &&
      added.every((t) => !t.lstrip && !t.rstrip && !t.single_word && t.content.length > 0) &&
      config.remove_space !== true &&
      config.do_lowercase_and_remove_accent !== true;
    if (!plain) return null;
    const vocab = new Map(Object.entries(model.vocab as Record<string, number>));
    for (const t of added) vocab.set(t.content, t.id);
    const merges = (model.merges as unknown[]).map((m) =>
      typeof m === 'string' ? (m.split(' ', 2) as [string, string]) : (m as [string, string]),
    );
    try {
      return new ByteLevelBpeEncoder(
        vocab,
        merges,
        added.map((t) => t.content),
      );
    } catch {
      return null; // e.g. a merge whose result is not in the vocabulary: leave it to the library
    }
  }

  encode(text: string): number[] {
    const ids: number[] = [];
    let at = 0;
    if (this.specialPattern) {
      for (const m of text.matchAll(this.specialPattern)) {
        this.encodeOrdinary(text.slice(at, m.index), ids);
        ids.push(this.specialIds.get(m[0])!);
        at = m.index + m[0].length;
      }
    }
    this.encodeOrdinary(text.slice(at), ids);
    return ids;
  }

  private encodeOrdinary(text: string, out: number[]): void {
    if (text.length === 0) return;
    for (const word of pretokenize(text)) {
      let ids = this.wordCache.get(word);
      if (ids === undefined) {
        const symbols = Array.from(utf8.encode(word), (b) => this.idOfByte[b]);
        ids = mergePairs(symbols, (l, r) => this.ranks.get(l * PAIR_KEY_BASE + r));
        if (this.wordCache.size < 100_000) this.wordCache.set(word, ids);
      }
      for (const id of ids) out.push(id);
    }
  }
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
