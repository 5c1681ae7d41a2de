import type { FinishReason } from '../lm/language-model.ts';
import { AlignkitError } from '../errors.ts';
import type { UsageSource } from './usage.ts';

/** A (partial) response to score. `finishReason` is null while the response is still growing. */
export interface ScoreInput {
  /** the raw prompt; each scorer applies its own template */
  prompt: string;
  response: string;
  finishReason: FinishReason | null;
}

/**
 * Anything that turns responses into numbers, higher = better: a reward model, a gold reward
 * function, the weak-to-strong log-ratio, a value model on partial responses.
 */
export interface Scorer {
  readonly name: string;
  /** models the scorer runs, by role, so runs can count their tokens */
  readonly models?: Record<string, UsageSource>;
  score(items: readonly ScoreInput[]): Promise<number[]>;
}

/** Runs a scorer and checks it returned one finite number per item. */
export async function scoreChecked(scorer: Scorer, items: readonly ScoreInput[]): Promise<number[]> {
  return assertScores(scorer.name, await scorer.score(items), items);
}

/** Throws a clear error unless `scores` holds one finite number per item. */
export function assertScores(name: string, scores: unknown, items: readonly ScoreInput[]): number[] {
  if (!Array.isArray(scores) || scores.length !== items.length)
    throw new AlignkitError(
      'internal',
      `scorer "${name}" returned ${Array.isArray(scores) ? scores.length : typeof scores} scores for ${items.length} responses`,
    );
  scores.forEach((s, i) => {
    if (typeof s !== 'number' || !Number.isFinite(s))
      throw new AlignkitError(
        'numeric',
        `scorer "${name}" returned ${s} for response ${i} (${JSON.stringify(items[i].response.slice(0, 60))}); expected a finite number`,
      );
  });
  return scores as number[];
}

/** Index of the highest score; ties go to the earlier index. */
export function argmax(scores: readonly number[]): number {
  let best = 0;
  for (let i = 1; i < scores.length; i++) if (scores[i] > scores[best]) best = i;
  return best;
}

/** Indices of the `n` highest scores, best first; ties keep index order. */
export function topIndices(scores: readonly number[], n: number): number[] {
  return scores
    .map((s, i) => i)
    .sort((a, b) => scores[b] - scores[a] || a - b)
    .slice(0, n);
}
