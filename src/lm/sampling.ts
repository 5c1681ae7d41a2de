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
  let best = 0,
    bestValue = -Infinity;
  for (let i = 0; i < length; i++) {
    const v = row[offset + i];
    if (v > bestValue) {
      bestValue = v;
      best = i;
    }
  }
  return best;
}

/**
 * Samples a token id from `row[offset .. offset+vocab)` holding log-probs or logits.
 * Deterministic given the random source.
 */
export function sampleToken(
  row: ArrayLike<number>,
  offset: number,
  vocab: number,
  params: SamplingParams,
  random: RandomSource,
): number {
  const temperature = params.temperature ?? 1;
  if (temperature <= 0 || params.topK === 1) return argmax(row, offset, vocab);
  const topK = params.topK ?? 0,
    topP = params.topP ?? 1;
  const cutByK = topK > 0 && topK < vocab;
  if (!cutByK && topP >= 1) return sampleUnfiltered(row, offset, vocab, temperature, random);
  if (cutByK && topP >= 1) {
    // the common case, without allocating: the candidates stay in the scratch arrays
    const count = topKWeights(row, offset, vocab, topK, temperature);
    let total = 0;
    for (let i = 0; i < count; i++) total += topWeights[i];
    let u = random() * total;
    for (let i = 0; i < count; i++) {
      u -= topWeights[i];
      if (u < 0) return topIds[i];
    }
    return topIds[count - 1];
  }
  const weights = filteredWeights(row, offset, vocab, temperature, topK, topP);
  let total = 0;
  for (let i = 0; i < weights.length; i++) total += weights[i][1];
  let u = random() * total;
  for (let i = 0; i < weights.length; i++) {
    u -= weights[i][1];
    if (u < 0) return weights[i][0];
  }
  return weights[weights.length - 1][0];
}

/** Draws from the whole vocabulary in id order (the same draw filteredWeights' list would give). */
function sampleUnfiltered(
  row: ArrayLike<number>,
  offset: number,
  vocab: number,
  temperature: number,
  random: RandomSource,
): number {
  let max = -Infinity;
  for (let i = 0; i < vocab; i++) if (row[offset + i] > max) max = row[offset + i];
  if (values.length < vocab) values = new Float64Array(vocab);
  let total = 0;
  for (let i = 0; i < vocab; i++) {
    const e = Math.exp((row[offset + i] - max) / temperature);
    values[i] = e;
    total += e;
  }
  let u = random() * total;
  let last = 0;
  for (let i = 0; i < vocab; i++) {
    if (values[i] <= 0) continue;
    last = i;
    u -= values[i];
    if (u < 0) return i;
  }
  return last;
}

/**
 * Unnormalized probabilities (id, weight) of the tokens that survive top-k / top-p, most likely
 * first when filtering applies: a draw is then a monotone function of the random number, so the
 * same seed gives coupled samples from nearby distributions and the result does not depend on
 * how the vocabulary is numbered. Never sorts the whole vocabulary: top-k selects the k-th
 * largest value; top-p sorts only the tokens above a threshold that is lowered until they hold
 * enough mass.
 */
export function filteredWeights(
  row: ArrayLike<number>,
  offset: number,
  vocab: number,
  temperature: number,
  topK: number,
  topP: number,
): [number, number][] {
  if (topK > 0 && topK < vocab) {
    const count = topKWeights(row, offset, vocab, topK, temperature);
    const candidates = Array.from({ length: count }, (_, i): [number, number] => [topIds[i], topWeights[i]]);
    return topP < 1
      ? nucleusOf(
          candidates,
          candidates.reduce((sum, [, x]) => sum + x, 0),
          topP,
        )
      : candidates;
  }
  let max = -Infinity;
  for (let i = 0; i < vocab; i++) if (row[offset + i] > max) max = row[offset + i];
  const w = new Float64Array(vocab);
  let total = 0;
  for (let i = 0; i < vocab; i++) {
    const e = Math.exp((row[offset + i] - max) / temperature);
    w[i] = e;
    total += e;
  }
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

// scratch buffers, reused: sampling runs for every generated token
let values = new Float64Array(0);
let topIds = new Int32Array(0);
let topWeights = new Float64Array(0);

/**
 * Top-k filtering: leaves the k most likely tokens in topIds / topWeights[0, count) with weights
 * exp((x − max) / T), most likely first (ties: lower id first; weights that underflow to 0 are
 * dropped), and returns count. Quickselect finds the k-th largest value and one pass collects
 * the tokens above it, so only those k are exponentiated and sorted: O(V + k log k).
 */
function topKWeights(row: ArrayLike<number>, offset: number, vocab: number, k: number, temperature: number): number {
  if (values.length < vocab) values = new Float64Array(vocab);
  if (topIds.length < k) {
    topIds = new Int32Array(k);
    topWeights = new Float64Array(k);
  }
  let n = 0;
  for (let i = 0; i < vocab; i++) {
    const x = row[offset + i];
    if (x > -Infinity) values[n++] = x;
  }
  if (n === 0) return 0;
  const wanted = Math.min(k, n);
  const threshold = kthLargest(values, n, wanted);
  let count = 0;
  for (let id = 0; id < vocab; id++)
    if (row[offset + id] > threshold) {
      topIds[count] = id;
      topWeights[count++] = row[offset + id];
    }
  for (let id = 0; id < vocab && count < wanted; id++)
    if (row[offset + id] === threshold) {
      topIds[count] = id;
      topWeights[count++] = threshold;
    }
  sortTop(count);
  const max = topWeights[0];
  let kept = 0;
  while (kept < count) {
    const w = Math.exp((topWeights[kept] - max) / temperature);
    if (!(w > 0)) break;
    topWeights[kept++] = w;
  }
  return kept;
}

/** Sorts topIds/topWeights[0, count) by value, descending, ties by id: insertion sort for a usual k. */
function sortTop(count: number): void {
  if (count > 64) {
    const order = Array.from({ length: count }, (_, i) => i).sort(
      (a, b) => topWeights[b] - topWeights[a] || topIds[a] - topIds[b],
    );
    const ids = order.map((i) => topIds[i]),
      ws = order.map((i) => topWeights[i]);
    topIds.set(ids);
    topWeights.set(ws);
    return;
  }
  for (let i = 1; i < count; i++) {
    const id = topIds[i],
      w = topWeights[i];
    let j = i - 1;
    while (j >= 0 && (topWeights[j] < w || (topWeights[j] === w && topIds[j] > id))) {
      topIds[j + 1] = topIds[j];
      topWeights[j + 1] = topWeights[j];
      j--;
    }
    topIds[j + 1] = id;
    topWeights[j + 1] = w;
  }
}

/** The k-th largest of values[0, n) (1-based k), reordering them in place (Hoare's selection). */
function kthLargest(values: Float64Array, n: number, k: number): number {
  let lo = 0,
    hi = n - 1;
  const target = k - 1;
  while (lo < hi) {
    const pivot = values[(lo + hi) >> 1];
    let i = lo,
      j = hi;
    while (i <= j) {
      while (values[i] > pivot) i++;
      while (values[j] < pivot) j--;
      if (i <= j) {
        const t = values[i];
        values[i] = values[j];
        values[j] = t;
        i++;
        j--;
      }
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
    for (let i = 0; i < w.length; i++)
      if (w[i] >= threshold && w[i] > 0) {
        c.push([i, w[i]]);
        mass += w[i];
      }
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
