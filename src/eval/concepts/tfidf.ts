/**
 * TF-IDF features in two blocks, as sklearn's TfidfVectorizer would give them: word 1–2-grams
 * (numbers collapsed to one token; each CJK character is a word, so CJK bigrams stand in for
 * Chinese words) and character 3–5-grams inside each non-CJK word, padded with spaces
 * (analyzer="char_wb"). Sublinear tf (1 + ln tf), smooth idf (ln((1+n)/(1+df)) + 1); each block
 * is L2-normalized and scaled by 1/√2, so a whole vector has unit length.
 */
import { conceptTokens, isCjk, ngrams } from './text-tokens.ts';
import { formatError } from '../../errors.ts';

export interface SparseVector {
  /** feature indices, ascending */
  indices: Int32Array;
  values: Float64Array;
}

export interface TfidfSettings {
  /** keep features that occur in at least this many training texts */
  minDf: number;
  /** keep at most this many features (the most frequent by document frequency) */
  maxFeatures: number;
}

export const defaultTfidfSettings: TfidfSettings = { minDf: 1, maxFeatures: 200_000 };

/** The serialized form (a classifier file holds it). */
export interface TfidfState {
  features: string[];
  idf: number[];
}

const WORD = 'w ';
const CHAR = 'c ';

/** The raw features of a text, by block, with their counts. */
function countFeatures(text: string): Map<string, number> {
  const tokens = conceptTokens(text);
  const counts = new Map<string, number>();
  const add = (f: string) => counts.set(f, (counts.get(f) ?? 0) + 1);
  for (const g of tokens) add(WORD + g);
  for (const g of ngrams(tokens, 2)) add(WORD + g);
  for (const t of tokens) {
    if (isCjk(t) || t === '<num>') continue;
    const padded = ` ${t} `;
    for (let n = 3; n <= 5; n++) for (let i = 0; i + n <= padded.length; i++) add(CHAR + padded.slice(i, i + n));
  }
  return counts;
}

export class TfidfVectorizer {
  private readonly index: Map<string, number>;
  private constructor(private readonly state: TfidfState) {
    this.index = new Map(state.features.map((f, i) => [f, i]));
  }

  get size(): number {
    return this.state.features.length;
  }

  static fit(texts: readonly string[], settings: TfidfSettings = defaultTfidfSettings): TfidfVectorizer {
    const df = new Map<string, number>();
    for (const text of texts) for (const f of countFeatures(text).keys()) df.set(f, (df.get(f) ?? 0) + 1);
    const kept = [...df.entries()]
      .filter(([, d]) => d >= settings.minDf)
      .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
      .slice(0, settings.maxFeatures)
      .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    const n = texts.length;
    return new TfidfVectorizer({
      features: kept.map(([f]) => f),
      idf: kept.map(([, d]) => Math.log((1 + n) / (1 + d)) + 1),
    });
  }

  static fromState(state: TfidfState, file?: string): TfidfVectorizer {
    if (!Array.isArray(state?.features) || !Array.isArray(state.idf) || state.features.length !== state.idf.length) {
      throw formatError('malformed TF-IDF state (expected features and idf arrays of equal length)', {
        file,
        field: 'vectorizer',
      });
    }
    return new TfidfVectorizer(state);
  }

  toState(): TfidfState {
    return this.state;
  }

  transform(text: string): SparseVector {
    const entries: [number, number, boolean][] = [];
    for (const [f, count] of countFeatures(text)) {
      const i = this.index.get(f);
      if (i !== undefined) entries.push([i, (1 + Math.log(count)) * this.state.idf[i], f.startsWith(WORD)]);
    }
    const norms = [0, 0];
    for (const [, v, word] of entries) norms[word ? 0 : 1] += v * v;
    entries.sort((a, b) => a[0] - b[0]);
    const scale = (word: boolean) => {
      const s = norms[word ? 0 : 1];
      return s > 0 ? 1 / Math.sqrt(2 * s) : 0;
    };
    return {
      indices: Int32Array.from(entries, (e) => e[0]),
      values: Float64Array.from(entries, ([, v, word]) => v * scale(word)),
    };
  }
}
