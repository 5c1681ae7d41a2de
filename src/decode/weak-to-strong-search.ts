import type { LanguageModel } from '../lm/language-model.ts';
import { createRng } from '../util/random.ts';
import type { SamplingOptions } from './chunk-sampler.ts';
import {
  type BeamScorer,
  type BeamSearchOptions,
  beamScorerOf,
  beamShape,
  cachedOrRescoring,
  chunkBeamSearch,
} from './chunk-beam-search.ts';
import { openModelSampler } from './large-model-sampler.ts';
import { type GuidancePair, LogRatioBeamScorer, logRatioScorer } from './log-ratio.ts';
import { type PromptFormat, renderPrompt } from '../lm/prompt-format.ts';
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
export async function weakToStrongSearch(
  large: LanguageModel,
  pair: GuidancePair,
  prompt: string,
  options: WeakToStrongOptions,
): Promise<SteerResult> {
  const shape = beamShape(options, W2S_DEFAULTS);
  const meter = new UsageMeter({ large, tuned: pair.tuned, untuned: pair.untuned });
  const size = shape.beams * shape.successors;
  const cacheable = [pair.tuned, pair.untuned].every((m) => m.capabilities.fullLogits && m.capabilities.tokenIds);
  const sampler = await openModelSampler(
    large,
    renderPrompt(options.largeFormat, prompt, large.tokenizer),
    size,
    options,
    createRng(options.seed ?? 0),
  );
  let scorer: BeamScorer;
  try {
    // LogRatioBeamScorer.open names the model that lacks decode states when "cached" is asked for
    const openCached =
      cacheable || options.scoring === 'cached' ? () => LogRatioBeamScorer.open(pair, prompt, size) : undefined;
    scorer = await cachedOrRescoring(
      options.scoring,
      openCached,
      () => beamScorerOf(logRatioScorer(pair)),
      'the small pair',
    );
  } catch (e) {
    sampler.close();
    throw e;
  }
  return withClosing([sampler, scorer], async () => {
    const found = await chunkBeamSearch(prompt, sampler, scorer, {
      ...shape,
      onProgress: options.onProgress,
      onSettled: options.onSettled,
    });
    const stats: Record<string, number> =
      scorer instanceof LogRatioBeamScorer ? { cacheRollbacks: scorer.rollbacks, cacheRebuilds: scorer.rebuilds } : {};
    return { method: 'w2s', ...found, usage: meter.delta(), stats };
  });
}
