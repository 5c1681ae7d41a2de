/** Additive attention bias: 0 where a query may attend, a large negative number elsewhere. */
export const MASKED = -1e9;

/**
 * Bias [B, 1, T, P+T] for appending chunks to a padded cache. Row b's past keys are those with
 * `pastValid[b][k]`; new token i of row b sees its own new tokens 0..i. Padded query rows
 * (i ≥ lengths[b]) attend only to themselves so that softmax stays well defined. Written into
 * `into` (exactly B·T·(P+T) floats) when given. Only the first `filled` past columns can be valid
 * (a cache's columns in use, of its capacity P): the rest are masked without being looked at.
 */
export function appendBias(
  pastValid: readonly Uint8Array[],
  pastLength: number,
  lengths: readonly number[],
  newLength: number,
  slidingWindow: number | null,
  positionsBefore: readonly number[],
  into?: Float32Array,
  filled = pastLength,
): Float32Array {
  const B = lengths.length;
  const S = pastLength + newLength;
  const bias = (into ?? new Float32Array(B * newLength * S)).fill(MASKED);
  for (let b = 0; b < B; b++) {
    const valid = pastValid[b];
    for (let i = 0; i < newLength; i++) {
      const row = (b * newLength + i) * S;
      if (i >= lengths[b]) {
        bias[row + pastLength + i] = 0;
        continue;
      }
      for (let k = 0; k < filled; k++) if (valid[k]) bias[row + k] = 0;
      for (let j = 0; j <= i; j++) bias[row + pastLength + j] = 0;
      if (slidingWindow !== null)
        applyWindow(bias, row, valid, pastLength, filled, i, slidingWindow, positionsBefore[b]);
    }
  }
  return bias;
}

/** A sliding window: a query at absolute position q sees keys at positions > q − window. */
function applyWindow(
  bias: Float32Array,
  row: number,
  valid: Uint8Array,
  pastLength: number,
  filled: number,
  i: number,
  window: number,
  positionBefore: number,
): void {
  const queryPos = positionBefore + i;
  // absolute positions of valid past keys are 0..positionBefore-1 in order of appearance
  let pos = 0;
  for (let k = 0; k < filled; k++) {
    if (!valid[k]) continue;
    if (queryPos - pos >= window) bias[row + k] = MASKED;
    pos++;
  }
  for (let j = 0; j <= i; j++) if (i - j >= window) bias[row + pastLength + j] = MASKED;
}

/** The biases of one step: for full-attention layers, and for windowed ones (each only where the model has such layers). */
export interface StepBiases {
  full?: Float32Array;
  window?: Float32Array;
}

/**
 * Storage reused by the biases of successive steps (a decode state's): a step's biases are read
 * before the next one is built, and a fresh array per token is garbage that a decode pays
 * scavenges for.
 */
export class BiasScratch {
  private readonly buffers = [new Float32Array(0), new Float32Array(0)];

  /** `size` floats of buffer `which` (0: full attention, 1: windowed), as a view from its start. */
  take(which: 0 | 1, size: number): Float32Array {
    if (this.buffers[which].length < size)
      // half again as much room: the cache, and with it the bias, grows by half when full
      this.buffers[which] = new Float32Array(Math.max(size, Math.ceil(this.buffers[which].length * 1.5)));
    return this.buffers[which].subarray(0, size);
  }
}

/** appendBias for each kind of layer the model has (see attentionWindows), in `scratch` when given. */
export function stepBiases(
  layers: { full: boolean; window: number | null },
  pastValid: readonly Uint8Array[],
  pastLength: number,
  lengths: readonly number[],
  newLength: number,
  positionsBefore: readonly number[],
  scratch?: BiasScratch,
  filled = pastLength,
): StepBiases {
  const size = lengths.length * newLength * (pastLength + newLength);
  const bias = (window: number | null, which: 0 | 1) =>
    appendBias(pastValid, pastLength, lengths, newLength, window, positionsBefore, scratch?.take(which, size), filled);
  return {
    full: layers.full ? bias(null, 0) : undefined,
    window: layers.window !== null ? bias(layers.window, 1) : undefined,
  };
}
