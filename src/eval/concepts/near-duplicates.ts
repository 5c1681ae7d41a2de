/**
 * Finds evaluation items in would-be training data. Texts are normalized (NFKC, lower case,
 * punctuation and spacing dropped; numbers kept), then compared exactly and by word 3-gram
 * shingles (each CJK character is a word): a near duplicate has Jaccard similarity ≥ the
 * threshold, or most of the smaller text's shingles inside the other (an evaluation question
 * embedded in a longer one). Exact, found through an inverted index, no hashing approximations.
 */
import { ngrams, wordTokens } from './text-tokens.ts';

export interface ReferenceText {
  key: string;
  text: string;
}

export interface DuplicateMatch {
  kind: 'exact' | 'near';
  /** key of the evaluation item it duplicates */
  key: string;
  jaccard: number;
  /** shared shingles / shingles of the smaller text */
  containment: number;
}

export interface DuplicateSettings {
  /** shingle length in words */
  n: number;
  jaccard: number;
  containment: number;
  /** containment counts only when the smaller text has at least this many shingles */
  minContainedShingles: number;
}

export const defaultDuplicateSettings: DuplicateSettings = {
  n: 3,
  jaccard: 0.5,
  containment: 0.8,
  minContainedShingles: 8,
};

/** The comparison form of a text: its word tokens joined by single spaces. */
export const comparisonText = (text: string) => wordTokens(text).join(' ');

function shingles(text: string, n: number): Set<string> {
  const tokens = wordTokens(text);
  return new Set(tokens.length < n ? [tokens.join(' ')] : ngrams(tokens, n));
}

export class DuplicateIndex {
  private readonly exact = new Map<string, string>();
  private readonly postings = new Map<string, number[]>();
  private readonly sizes: number[] = [];
  private readonly keys: string[] = [];
  readonly settings: DuplicateSettings;

  constructor(references: readonly ReferenceText[], settings: Partial<DuplicateSettings> = {}) {
    this.settings = { ...defaultDuplicateSettings, ...settings };
    references.forEach((r, i) => {
      const normal = comparisonText(r.text);
      if (!this.exact.has(normal)) this.exact.set(normal, r.key);
      const s = shingles(r.text, this.settings.n);
      this.keys.push(r.key);
      this.sizes.push(s.size);
      for (const g of s) {
        if (!this.postings.has(g)) this.postings.set(g, []);
        this.postings.get(g)!.push(i);
      }
    });
  }

  /** The evaluation item a text duplicates (the most similar one), if any. */
  match(text: string): DuplicateMatch | undefined {
    const exactKey = this.exact.get(comparisonText(text));
    if (exactKey !== undefined) return { kind: 'exact', key: exactKey, jaccard: 1, containment: 1 };
    const s = shingles(text, this.settings.n);
    const shared = new Map<number, number>();
    for (const g of s) for (const i of this.postings.get(g) ?? []) shared.set(i, (shared.get(i) ?? 0) + 1);
    let best: DuplicateMatch | undefined;
    for (const [i, common] of shared) {
      const jaccard = common / (s.size + this.sizes[i] - common);
      const smaller = Math.min(s.size, this.sizes[i]);
      const containment = common / smaller;
      const near =
        jaccard >= this.settings.jaccard ||
        (containment >= this.settings.containment && smaller >= this.settings.minContainedShingles);
      if (near && (!best || jaccard > best.jaccard)) best = { kind: 'near', key: this.keys[i], jaccard, containment };
    }
    return best;
  }
}

export interface Removed<T> {
  item: T;
  match: DuplicateMatch;
}

/** Splits items into those that duplicate no evaluation item and those that do (with the match). */
export function withoutDuplicates<T>(
  items: readonly T[],
  textOf: (item: T) => string,
  index: DuplicateIndex,
): { kept: T[]; removed: Removed<T>[] } {
  const kept: T[] = [];
  const removed: Removed<T>[] = [];
  for (const item of items) {
    const match = index.match(textOf(item));
    if (match) removed.push({ item, match });
    else kept.push(item);
  }
  return { kept, removed };
}
