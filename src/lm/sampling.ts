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
 * first when filtering applies. Only the candidates are sorted: for top-p, tokens far below the
 * maximum are set aside first, and a full sort happens only if their mass could matter.
 */
export function filteredWeights(row: ArrayLike<number>, offset: number, vocab: number, temperature: number, topK: number, topP: number): [number, number][] {
  let max = -Infinity;
  for (let i = 0; i < vocab; i++) max = Math.max(max, row[offset + i]);
  const w = new Float64Array(vocab);
  let total = 0;
  for (let i = 0; i < vocab; i++) { const e = Math.exp((row[offset + i] - max) / temperature); w[i] = e; total += e; }
  if (topK <= 0 && topP >= 1) {
    const all: [number, number][] = [];
    for (let i = 0; i < vocab; i++) if (w[i] > 0) all.push([i, w[i]]);
    return all;
  }
  const sortedCandidates = (threshold: number): [number, number][] => {
    const c: [number, number][] = [];
    for (let i = 0; i < vocab; i++) if (w[i] >= threshold && w[i] > 0) c.push([i, w[i]]);
    return c.sort((a, b) => b[1] - a[1] || a[0] - b[0]);
  };
  let candidates = sortedCandidates(1e-7);
  const kept = candidates.reduce((s, [, x]) => s + x, 0);
  const needFull = (topK > 0 && candidates.length < topK) || (topP < 1 && total - kept > (1 - topP) * total * 0.5);
  if (needFull) candidates = sortedCandidates(0);
  if (topK > 0) candidates = candidates.slice(0, topK);
  if (topP < 1) {
    const mass = candidates.reduce((s, [, x]) => s + x, 0);
    let cum = 0, cut = candidates.length;
    for (let i = 0; i < candidates.length; i++) {
      cum += candidates[i][1];
      if (cum >= topP * mass) { cut = i + 1; break; }
    }
    candidates = candidates.slice(0, cut);
  }
  return candidates;
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
