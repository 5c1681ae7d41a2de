import type { LanguageModel } from '../lm/language-model.ts';
import { AlignkitError } from '../errors.ts';
import { createRng } from '../util/random.ts';
import type { SamplingOptions } from './chunk-sampler.ts';
import { type BeamScorer, type BeamSearchOptions, beamScorerOf, beamShape, chunkBeamSearch } from './chunk-beam-search.ts';
import { openModelSampler } from './large-model-sampler.ts';
import { type GuidancePair, LogRatioBeamScorer, logRatioScorer } from './log-ratio.ts';
import { type PromptFormat, renderPrompt } from './prompt-format.ts';
import { type SeedOption, type SteerResult, withClosing } from './steer-result.ts';
import { UsageMeter } from './usage.ts';

export interface WeakToStrongOptions extends SamplingOptions, SeedOption, Partial<BeamSearchOptions> {
  largeFormat?: PromptFormat;
  /**
   * "cached" (default when both small models have KV-cached decode states): only new ids are run
   * each round. "rescore": every round re-scores each whole response from scratch, as the
   * reference code does (for comparison, and for small models served without decode states).
   */
  scoring?: 'cached' | 'rescore';
}

/** Defaults of the reference code's sentiment runs (notes §2.7). */
export const W2S_DEFAULTS = { beams: 4, successors: 4, chunkLength: 5 } as const;

/**
 * Weak-to-strong search: chunk-level beam search over the large model's samples, ranked by the
 * small pair's log-ratio log π_tuned(y|x) − log π_untuned(y|x). The large model may have any
 * tokenizer and may be text-only (the small models re-tokenize the response text).
 */
export async function weakToStrongSearch(large: LanguageModel, pair: GuidancePair, prompt: string, options: WeakToStrongOptions): Promise<SteerResult> {
  const shape = beamShape(options, W2S_DEFAULTS);
  const meter = new UsageMeter({ large, tuned: pair.tuned, untuned: pair.untuned });
  const size = shape.beams * shape.successors;
  const cacheable = [pair.tuned, pair.untuned].every((m) => m.capabilities.fullLogits && m.capabilities.tokenIds);
  const scoring = options.scoring ?? (cacheable ? 'cached' : 'rescore');
  const sampler = await openModelSampler(large, renderPrompt(options.largeFormat, prompt, large.tokenizer), size, options, createRng(options.seed ?? 0));
  let scorer: BeamScorer;
  try {
    scorer = scoring === 'cached' ? await openCachedScorer(pair, prompt, size, options.scoring === undefined) : beamScorerOf(logRatioScorer(pair));
  } catch (e) {
    sampler.close();
    throw e;
  }
  return withClosing([sampler, scorer], async () => {
    const found = await chunkBeamSearch(prompt, sampler, scorer, { ...shape, onProgress: options.onProgress });
    const stats: Record<string, number> = scorer instanceof LogRatioBeamScorer ? { cacheRollbacks: scorer.rollbacks, cacheRebuilds: scorer.rebuilds } : {};
    return { method: 'w2s', ...found, usage: meter.delta(), stats };
  });
}

/** The cached scorer; in automatic mode, a backend whose decode states cannot be joined falls back to re-scoring. */
async function openCachedScorer(pair: GuidancePair, prompt: string, size: number, automatic: boolean): Promise<BeamScorer> {
  try {
    return await LogRatioBeamScorer.open(pair, prompt, size);
  } catch (e) {
    if (automatic && e instanceof AlignkitError && e.kind === 'capability') return beamScorerOf(logRatioScorer(pair));
    throw e;
  }
}
