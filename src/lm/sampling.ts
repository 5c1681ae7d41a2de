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
/** top-k's histogram of how far each token lies below the row's maximum */
const BUCKETS = 256;
const bucketStart = new Int32Array(BUCKETS + 1);

/**
 * Top-k filtering: leaves the k most likely tokens in topIds / topWeights[0, count) with weights
 * exp((x − max) / T), most likely first (ties: lower id first; weights that underflow to 0 are
 * dropped), and returns count.
 *
 * A bucket sort by distance below the maximum, stopped at the bucket that holds the k-th token:
 * a histogram finds that bucket, one pass gathers the tokens of the buckets above it in bucket
 * order, and an insertion sort, which only has to fix the order inside each bucket, ranks them.
 * The bucket index falls as the value rises, so every token left out lies strictly below every
 * token gathered. Unlike a heap or a quickselect this has few hard-to-predict branches, which
 * cost more than the arithmetic on a small vocabulary. O(V + k) in the usual case, no allocation.
 */
function topKWeights(row: ArrayLike<number>, offset: number, vocab: number, k: number, temperature: number): number {
  let max = -Infinity,
    min = Infinity,
    finite = 0;
  for (let id = 0; id < vocab; id++) {
    const x = row[offset + id];
    if (x > max) max = x;
    if (x < min) min = x;
  }
  if (max === -Infinity) return 0;
  // the gathered buckets can hold more than k tokens (up to the whole row when all tie)
  if (topIds.length < vocab) {
    topIds = new Int32Array(vocab);
    topWeights = new Float64Array(vocab);
  }
  // -Infinity (impossible) and NaN tokens never take part; the rest fall in [0, BUCKETS)
  if (min === -Infinity) {
    min = max;
    for (let id = 0; id < vocab; id++) {
      const x = row[offset + id];
      if (x > -Infinity && x < min) min = x;
    }
  }
  const scale = max > min ? (BUCKETS - 1) / (max - min) : 0;
  const counts = bucketStart;
  counts.fill(0);
  for (let id = 0; id < vocab; id++) {
    const x = row[offset + id];
    if (x > -Infinity) {
      counts[bucketOf(x, max, scale) + 1]++;
      finite++;
    }
  }
  const wanted = Math.min(k, finite);
  // counts → each bucket's first slot; `last` is the bucket where the wanted-th token lies
  let last = 0;
  for (let b = 1; b <= BUCKETS; b++) {
    counts[b] += counts[b - 1];
    if (counts[b - 1] < wanted) last = b - 1;
  }
  const gathered = counts[last + 1];
  for (let id = 0; id < vocab; id++) {
    const x = row[offset + id];
    if (!(x > -Infinity)) continue;
    const b = bucketOf(x, max, scale);
    if (b > last) continue;
    const at = counts[b]++;
    topIds[at] = id;
    topWeights[at] = x;
  }
  sortGathered(gathered);
  let kept = 0;
  while (kept < wanted) {
    const w = Math.exp((topWeights[kept] - max) / temperature);
    if (!(w > 0)) break;
    topWeights[kept++] = w;
  }
  return kept;
}

/**
 * Sorts topIds/topWeights[0, count) by value, descending, ties by id. The buckets are already in
 * order, so an insertion sort only fixes the order inside each; but one bucket can hold most of
 * the row (near-ties, or a far outlier stretching the bucket width), where insertion sort would
 * be quadratic in the vocabulary: past a few thousand tokens, a comparison sort.
 */
function sortGathered(count: number): void {
  if (count > 4096) {
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

/** Which of top-k's buckets a finite value falls in: 0 holds the maximum; larger values never get a larger bucket. */
const bucketOf = (x: number, max: number, scale: number) => Math.min(BUCKETS - 1, ((max - x) * scale) | 0);

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
