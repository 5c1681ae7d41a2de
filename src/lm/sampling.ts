/**
 * Choosing the next token from a row of log-probs (or logits): greedy, temperature, top-k,
 * top-p. The one place for this logic: the native backend, the gateway and the token-level
 * steering methods all use it.
 */
export interface SamplingParams {
  /** 0 = greedy; default 1 */
  temperature?: number;
  /** keep the k most likely tokens (0/undefined = all) */
  topK?: number;
  /** keep the smallest set whose probability reaches p (1/undefined = all) */
  topP?: number;
}

/** uniform [0, 1) */
export type RandomSource = () => number;

export function argmax(row: ArrayLike<number>, offset = 0, length = row.length - offset): number {
  let best = 0, bestValue = -Infinity;
  for (let i = 0; i < length; i++) {
    const v = row[offset + i];
    if (v > bestValue) { bestValue = v; best = i; }
  }
  return best;
}

/**
 * Samples a token id from `row[offset .. offset+vocab)` holding log-probs or logits.
 * Deterministic given the random source.
 */
export function sampleToken(row: ArrayLike<number>, offset: number, vocab: number, params: SamplingParams, random: RandomSource): number {
  const temperature = params.temperature ?? 1;
  if (temperature <= 0 || params.topK === 1) return argmax(row, offset, vocab);
  const weights = filteredWeights(row, offset, vocab, temperature, params.topK ?? 0, params.topP ?? 1);
  let total = 0;
  for (let i = 0; i < weights.length; i++) total += weights[i][1];
  let u = random() * total;
  for (let i = 0; i < weights.length; i++) {
    u -= weights[i][1];
    if (u < 0) return weights[i][0];
  }
  return weights[weights.length - 1][0];
}

/**
 * Unnormalized probabilities (id, weight) of the tokens that survive top-k / top-p, most likely
 * first when filtering applies: a draw is then a monotone function of the random number, so the
 * same seed gives coupled samples from nearby distributions and the result does not depend on
 * how the vocabulary is numbered. Never sorts the whole vocabulary: top-k selects the k-th
 * largest value; top-p sorts only the tokens above a threshold that is lowered until they hold
 * enough mass.
 */
export function filteredWeights(row: ArrayLike<number>, offset: number, vocab: number, temperature: number, topK: number, topP: number): [number, number][] {
  if (topK > 0 && topK < vocab) {
    // the k largest values are the k largest weights: exponentiate only those
    const top = topKOf(row, offset, vocab, topK);
    let max = -Infinity;
    for (const c of top) if (c[1] > max) max = c[1];
    for (const c of top) c[1] = Math.exp((c[1] - max) / temperature);
    const candidates = sortByWeight(top.filter((c) => c[1] > 0));
    return topP < 1 ? nucleusOf(candidates, candidates.reduce((sum, [, x]) => sum + x, 0), topP) : candidates;
  }
  let max = -Infinity;
  for (let i = 0; i < vocab; i++) if (row[offset + i] > max) max = row[offset + i];
  const w = new Float64Array(vocab);
  let total = 0;
  for (let i = 0; i < vocab; i++) { const e = Math.exp((row[offset + i] - max) / temperature); w[i] = e; total += e; }
  if (topP < 1) return nucleusOf(nucleusCandidates(w, total, topP), total, topP);
  const all: [number, number][] = [];
  for (let i = 0; i < vocab; i++) if (w[i] > 0) all.push([i, w[i]]);
  return all;
}

/**
 * The most likely candidates (sorted) holding `topP` of `mass`: the mass of what survived top-k,
 * or of the whole vocabulary.
 */
function nucleusOf(candidates: [number, number][], mass: number, topP: number): [number, number][] {
  let cum = 0;
  for (let i = 0; i < candidates.length; i++) {
    cum += candidates[i][1];
    if (cum >= topP * mass) return candidates.slice(0, i + 1);
  }
  return candidates;
}

const byWeight = (a: [number, number], b: [number, number]) => b[1] - a[1] || a[0] - b[0];

/** Sorts by byWeight; insertion sort for the few dozen candidates of a usual top-k (no comparator calls). */
function sortByWeight(items: [number, number][]): [number, number][] {
  if (items.length > 64) return items.sort(byWeight);
  for (let i = 1; i < items.length; i++) {
    const item = items[i];
    let j = i - 1;
    while (j >= 0 && (items[j][1] < item[1] || (items[j][1] === item[1] && items[j][0] > item[0]))) { items[j + 1] = items[j]; j--; }
    items[j + 1] = item;
  }
  return items;
}

/**
 * The k largest finite values of row[offset, offset+vocab) as (id, value), unordered (ties at
 * the k-th value: lower ids). Quickselect finds the k-th largest value, then one pass collects
 * the tokens above it: O(V) with no per-token allocation, as this runs for every sampled token.
 */
function topKOf(row: ArrayLike<number>, offset: number, vocab: number, k: number): [number, number][] {
  if (scratch.length < vocab) scratch = new Float64Array(vocab);
  const values = scratch;
  let n = 0;
  for (let i = 0; i < vocab; i++) { const x = row[offset + i]; if (x > -Infinity) values[n++] = x; }
  if (n === 0) return [];
  const threshold = kthLargest(values, n, Math.min(k, n));
  const out: [number, number][] = [];
  for (let id = 0; id < vocab; id++) if (row[offset + id] > threshold) out.push([id, row[offset + id]]);
  for (let id = 0; id < vocab && out.length < k; id++) if (row[offset + id] === threshold) out.push([id, threshold]);
  return out;
}

let scratch = new Float64Array(0);

/** The k-th largest of values[0, n) (1-based k), reordering them in place (Hoare's selection). */
function kthLargest(values: Float64Array, n: number, k: number): number {
  let lo = 0, hi = n - 1;
  const target = k - 1;
  while (lo < hi) {
    const pivot = values[(lo + hi) >> 1];
    let i = lo, j = hi;
    while (i <= j) {
      while (values[i] > pivot) i++;
      while (values[j] < pivot) j--;
      if (i <= j) { const t = values[i]; values[i] = values[j]; values[j] = t; i++; j--; }
    }
    if (target <= j) hi = j;
    else if (target >= i) lo = i;
    else return values[target];
  }
  return values[target];
}

/** Every token whose weight could be in the top-p nucleus, sorted. */
function nucleusCandidates(w: Float64Array, total: number, topP: number): [number, number][] {
  let max = 0;
  for (const x of w) if (x > max) max = x;
  for (let threshold = max * 1e-3; ; threshold *= 1e-3) {
    const c: [number, number][] = [];
    let mass = 0;
    for (let i = 0; i < w.length; i++) if (w[i] >= threshold && w[i] > 0) { c.push([i, w[i]]); mass += w[i]; }
    // tokens below the threshold all weigh less than any kept one, so once the kept ones reach
    // p of the total, the nucleus lies among them
    if (mass >= topP * total || threshold === 0 || threshold < Number.MIN_VALUE) return c.sort(byWeight);
  }
}

/** Log-softmax of a row in place semantics: returns a new Float32Array. */
export function logSoftmax(row: ArrayLike<number>, offset = 0, length = row.length - offset): Float32Array {
  let max = -Infinity;
  for (let i = 0; i < length; i++) max = Math.max(max, row[offset + i]);
  let sum = 0;
  for (let i = 0; i < length; i++) sum += Math.exp(row[offset + i] - max);
  const lse = max + Math.log(sum);
  const out = new Float32Array(length);
  for (let i = 0; i < length; i++) out[i] = row[offset + i] - lse;
  return out;
}
