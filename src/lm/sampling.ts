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
  for (const [, w] of weights) total += w;
  let u = random() * total;
  for (const [id, w] of weights) {
    u -= w;
    if (u < 0) return id;
  }
  return weights[weights.length - 1][0];
}

/**
 * Unnormalized probabilities (id, weight) of the tokens that survive top-k / top-p, most likely
 * first when filtering applies. Never sorts the whole vocabulary: top-k keeps a k-sized heap;
 * top-p sorts only the tokens above a threshold that is lowered until they hold enough mass.
 */
export function filteredWeights(row: ArrayLike<number>, offset: number, vocab: number, temperature: number, topK: number, topP: number): [number, number][] {
  let max = -Infinity;
  for (let i = 0; i < vocab; i++) if (row[offset + i] > max) max = row[offset + i];
  const w = new Float64Array(vocab);
  let total = 0;
  for (let i = 0; i < vocab; i++) { const e = Math.exp((row[offset + i] - max) / temperature); w[i] = e; total += e; }
  let candidates: [number, number][];
  const cutByK = topK > 0 && topK < vocab;
  if (cutByK) candidates = topKOf(w, topK);
  else if (topP < 1) candidates = nucleusCandidates(w, total, topP);
  else {
    candidates = [];
    for (let i = 0; i < vocab; i++) if (w[i] > 0) candidates.push([i, w[i]]);
    return candidates;
  }
  if (topP < 1) {
    // the nucleus is measured against what survived top-k, or against the whole vocabulary
    const mass = cutByK ? candidates.reduce((sum, [, x]) => sum + x, 0) : total;
    let cum = 0;
    for (let i = 0; i < candidates.length; i++) {
      cum += candidates[i][1];
      if (cum >= topP * mass) return candidates.slice(0, i + 1);
    }
  }
  return candidates;
}

const byWeight = (a: [number, number], b: [number, number]) => b[1] - a[1] || a[0] - b[0];

/** The k largest weights, sorted, via a size-k min-heap (O(V log k)). */
function topKOf(w: Float64Array, k: number): [number, number][] {
  const heapIds = new Int32Array(k);
  const heapW = new Float64Array(k);
  let size = 0;
  const less = (i: number, j: number) => heapW[i] < heapW[j] || (heapW[i] === heapW[j] && heapIds[i] > heapIds[j]);
  const swap = (i: number, j: number) => {
    const t = heapW[i]; heapW[i] = heapW[j]; heapW[j] = t;
    const u = heapIds[i]; heapIds[i] = heapIds[j]; heapIds[j] = u;
  };
  const siftDown = (i: number) => {
    for (;;) {
      const l = 2 * i + 1, r = l + 1;
      let m = i;
      if (l < size && less(l, m)) m = l;
      if (r < size && less(r, m)) m = r;
      if (m === i) return;
      swap(i, m);
      i = m;
    }
  };
  for (let id = 0; id < w.length; id++) {
    const x = w[id];
    if (x <= 0) continue;
    if (size < k) {
      heapIds[size] = id; heapW[size] = x;
      for (let i = size++; i > 0;) { const p = (i - 1) >> 1; if (!less(i, p)) break; swap(i, p); i = p; }
    } else if (x > heapW[0]) {
      heapIds[0] = id; heapW[0] = x;
      siftDown(0);
    }
  }
  const out: [number, number][] = [];
  for (let i = 0; i < size; i++) out.push([heapIds[i], heapW[i]]);
  return out.sort(byWeight);
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
