import type { LogprobMatrix } from '../lm/language-model.ts';
import { AlignkitError, inputError } from '../errors.ts';

/** One model's next-token log-probs and its weight in a token-level mixture. */
export interface MixtureTerm {
  logprobs: LogprobMatrix;
  weight: number;
}

/**
 * Token-level distribution arithmetic (EFT / proxy tuning, emulated disalignment, IVG's implicit
 * value): row r of the result is log-softmax(Σ_j weight_j · logprobs_j[r]). Each model's log-probs
 * differ from its raw logits by a per-row constant, so this equals the reference code's mixing of
 * raw logits. `suppress` ids get -Infinity before renormalizing (ED suppresses EOS when stop
 * strings end responses).
 *
 * A token with -Infinity under a positively weighted model stays impossible. Under a negatively
 * weighted model it would become +Infinity; it is treated as that row's least likely finite value
 * instead, so "impossible for the model we move away from" never dominates the mixture.
 */
export function mixLogprobs(terms: readonly MixtureTerm[], suppress: readonly number[] = []): LogprobMatrix {
  const mixed = mixScores(terms, suppress);
  for (let r = 0; r < mixed.rows; r++) logSoftmaxInPlace(mixed.data, r * mixed.vocab, mixed.vocab);
  return mixed;
}

/**
 * Σ_j weight_j · logprobs_j[r] before renormalizing: what sampling needs (it is invariant to a
 * per-row constant), without a pass of exp over the vocabulary. Same rules as mixLogprobs.
 * `into`, when it holds exactly rows × vocab values, receives the result instead of a new array
 * (a sampler mixes every generated token and reads each result only until the next).
 */
export function mixScores(
  terms: readonly MixtureTerm[],
  suppress: readonly number[] = [],
  into?: Float32Array,
): LogprobMatrix {
  if (terms.length === 0) throw inputError('a token-level mixture needs at least one model');
  const { rows, vocab } = terms[0].logprobs;
  for (const t of terms) {
    if (t.logprobs.rows !== rows || t.logprobs.vocab !== vocab)
      throw inputError(
        `token-level mixing needs matching shapes; got [${rows}, ${vocab}] and [${t.logprobs.rows}, ${t.logprobs.vocab}]`,
      );
    if (!Number.isFinite(t.weight)) throw inputError(`mixture weight must be a finite number, got ${t.weight}`);
  }
  const size = rows * vocab;
  const out = into?.length === size ? into.fill(0) : new Float32Array(size);
  for (let r = 0; r < rows; r++) {
    const base = r * vocab;
    for (const { logprobs, weight } of terms) {
      if (weight === 0) continue;
      const src = logprobs.data;
      let floor: number | undefined;
      for (let v = base; v < base + vocab; v++) {
        const x = src[v];
        if (x > -Infinity) {
          out[v] += weight * x;
          continue;
        }
        if (Number.isNaN(x))
          throw new AlignkitError('numeric', `a model returned NaN log-probs (row ${r}, token ${v - base})`);
        if (weight > 0) out[v] = -Infinity;
        else out[v] += weight * (floor ??= rowFiniteMin(src, base, vocab));
      }
    }
    for (const id of suppress) if (id >= 0 && id < vocab) out[base + id] = -Infinity;
    let possible = false;
    for (let v = base; v < base + vocab && !possible; v++) possible = out[v] > -Infinity;
    if (!possible) throw allImpossible();
  }
  return { rows, vocab, data: out };
}

function rowFiniteMin(data: Float32Array, base: number, vocab: number): number {
  let min = Infinity;
  for (let v = 0; v < vocab; v++) {
    const x = data[base + v];
    if (x > -Infinity && x < min) min = x;
  }
  return Number.isFinite(min) ? min : 0;
}

/** Normalizes data[offset, offset+length) to log-probs (log-sum-exp stabilized). */
export function logSoftmaxInPlace(data: Float32Array, offset: number, length: number): void {
  let max = -Infinity;
  for (let i = offset; i < offset + length; i++) if (data[i] > max) max = data[i];
  if (max === -Infinity) throw allImpossible();
  let sum = 0;
  for (let i = offset; i < offset + length; i++) sum += Math.exp(data[i] - max);
  const logZ = max + Math.log(sum);
  for (let i = offset; i < offset + length; i++) data[i] -= logZ;
}

const allImpossible = () =>
  new AlignkitError('numeric', 'every token of the mixed distribution is impossible (all log-probs are -Infinity)');
