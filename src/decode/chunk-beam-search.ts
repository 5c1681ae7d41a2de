import type { FinishReason } from '../lm/language-model.ts';
import { AlignkitError, inputError } from '../errors.ts';
import { type ChunkSampler, commonPrefix } from './chunk-sampler.ts';
import { type ScoreInput, type Scorer, assertScores, topIndices } from './scorer.ts';

/** Ranks the rows of a chunk beam search; may keep per-row caches, which follow `reorder`. */
export interface BeamScorer {
  readonly name: string;
  score(rows: readonly ScoreInput[]): Promise<number[]>;
  reorder(indices: readonly number[]): void;
  close(): void;
}

/**
 * A KV-cached beam scorer or a re-scoring one: "rescore" asks for the latter, "cached" for the
 * former; left open, a backend that cannot keep the caches (no `openCached`, or a capability
 * error from it) falls back to re-scoring.
 */
export async function cachedOrRescoring(
  scoring: 'cached' | 'rescore' | undefined,
  openCached: (() => Promise<BeamScorer>) | undefined,
  rescoring: () => BeamScorer,
  what: string,
): Promise<BeamScorer> {
  if (scoring === 'rescore' || (scoring === undefined && !openCached)) return rescoring();
  if (!openCached)
    throw new AlignkitError('capability', `${what} cannot keep KV caches for cached scoring; use scoring "rescore"`);
  try {
    return await openCached();
  } catch (e) {
    if (scoring === undefined && e instanceof AlignkitError && e.kind === 'capability') return rescoring();
    throw e;
  }
}

/** Any Scorer as a BeamScorer; a finished row's score is kept instead of being recomputed. */
export function beamScorerOf(scorer: Scorer): BeamScorer {
  let frozen: (number | null)[] = [];
  return {
    name: scorer.name,
    async score(rows) {
      const live = rows.map((_, i) => i).filter((i) => frozen[i] == null);
      const fresh = live.length ? await scorer.score(live.map((i) => rows[i])) : [];
      assertScores(
        scorer.name,
        fresh,
        live.map((i) => rows[i]),
      );
      const scores = rows.map((_, i) => frozen[i] ?? NaN);
      live.forEach((row, j) => {
        scores[row] = fresh[j];
      });
      frozen = rows.map((row, i) => (row.finishReason !== null ? scores[i] : null));
      return scores;
    },
    reorder(indices) {
      frozen = indices.map((i) => frozen[i] ?? null);
    },
    close() {},
  };
}

export interface BeamSearchOptions {
  /** W: beams kept after each chunk */
  beams: number;
  /** K: successors sampled from each beam */
  successors: number;
  /** L: chunk length in the sampler's tokens (Infinity = whole responses, i.e. Best-of-N) */
  chunkLength: number;
  onProgress?: (p: { round: number; generated: number; finished: number; rows: number }) => void;
  /** after each round, the text all kept beams share: the returned response starts with it */
  onSettled?: (text: string) => void;
}

export interface Candidate {
  text: string;
  score: number;
  finishReason: FinishReason | null;
}

export interface BeamSearchResult {
  text: string;
  /** the sampling model's token ids of the response (empty for text-only backends) */
  tokens: number[];
  finishReason: FinishReason;
  score: number;
  /** chunks sampled */
  rounds: number;
  /** the W·K candidates of the last selection, in row order */
  candidates: Candidate[];
  /** wall time spent sampling chunks and scoring them */
  timing: { samplingSeconds: number; scoringSeconds: number };
}

export interface BeamShape {
  beams: number;
  successors: number;
  chunkLength: number;
}

/** W, K, L from the options given, the rest from `defaults`; checked. */
export function beamShape(o: Partial<BeamShape>, defaults: BeamShape): BeamShape {
  const shape = {
    beams: o.beams ?? defaults.beams,
    successors: o.successors ?? defaults.successors,
    chunkLength: o.chunkLength ?? defaults.chunkLength,
  };
  validateBeamShape(shape);
  return shape;
}

export function validateBeamShape(o: BeamShape): void {
  if (!Number.isInteger(o.beams) || o.beams < 1)
    throw inputError(`beam width W must be a positive integer, got ${o.beams}`, { field: 'w' });
  if (!Number.isInteger(o.successors) || o.successors < 1)
    throw inputError(`successors per beam K must be a positive integer, got ${o.successors}`, { field: 'k' });
  if (!(o.chunkLength === Infinity || (Number.isInteger(o.chunkLength) && o.chunkLength >= 1)))
    throw inputError(`chunk length L must be a positive integer or Infinity, got ${o.chunkLength}`, { field: 'l' });
}

/**
 * Chunk-level beam search (weak-to-strong search, Algorithm 1; notes §2.3). The sampler holds
 * W·K rows, all starting from the prompt. Each round extends every unfinished row by up to L
 * tokens, scores all W·K rows, keeps the top W (best first, ties to the lower row) and repeats
 * that list K times to rebuild W·K rows. Finished rows keep competing with a frozen score (a
 * finished beam that stays in the top W fills K rows). The search ends once every kept beam has
 * finished and returns the best. W=1, K=N, L=Infinity is Best-of-N.
 */
export async function chunkBeamSearch(
  prompt: string,
  sampler: ChunkSampler,
  scorer: BeamScorer,
  options: BeamSearchOptions,
): Promise<BeamSearchResult> {
  validateBeamShape(options);
  const { beams, successors, chunkLength } = options;
  if (sampler.size !== beams * successors)
    throw inputError(`the sampler holds ${sampler.size} rows; W·K = ${beams * successors} expected`);
  const timing = { samplingSeconds: 0, scoringSeconds: 0 };
  for (let round = 1; ; round++) {
    let t = performance.now();
    await sampler.extend(chunkLength);
    timing.samplingSeconds += (performance.now() - t) / 1000;
    const rows = sampler.rows();
    const inputs = rows.map((r): ScoreInput => ({ prompt, response: r.text, finishReason: r.finishReason }));
    t = performance.now();
    const scores = assertScores(scorer.name, await scorer.score(inputs), inputs);
    timing.scoringSeconds += (performance.now() - t) / 1000;
    const top = topIndices(scores, beams);
    options.onProgress?.({
      round,
      generated: Math.max(...rows.map((r) => r.generated)),
      finished: rows.filter((r) => r.finishReason !== null).length,
      rows: rows.length,
    });
    if (top.every((i) => rows[i].finishReason !== null)) {
      const best = rows[top[0]];
      return {
        text: best.text,
        tokens: [...best.tokens],
        finishReason: best.finishReason!,
        score: scores[top[0]],
        rounds: round,
        candidates: rows.map((r, i) => ({ text: r.text, score: scores[i], finishReason: r.finishReason })),
        timing,
      };
    }
    options.onSettled?.(commonPrefix(top.map((i) => rows[i].text)));
    const indices = Array.from({ length: successors }, () => top).flat();
    sampler.reorder(indices);
    scorer.reorder(indices);
  }
}
