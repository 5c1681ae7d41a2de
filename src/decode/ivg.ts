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
import { eftTerms } from './eft.ts';
import type { GuidancePair } from './log-ratio.ts';
import { type PromptFormat, renderPrompt } from '../lm/prompt-format.ts';
import { type SeedOption, type SteerResult, withClosing } from './steer-result.ts';
import { TokenStreamSampler } from './token-stream-sampler.ts';
import { UsageMeter } from './usage.ts';
import { type ValueModel, valueScorer } from './value-model.ts';
import { W2S_DEFAULTS } from './weak-to-strong-search.ts';
import { assertSameVocabulary } from './vocabulary.ts';

export interface IvgOptions extends SamplingOptions, SeedOption, Partial<BeamSearchOptions> {
  /** weight w of the implicit value (tuned − untuned) in token-wise sampling (default 1) */
  beta?: number;
  largeFormat?: PromptFormat;
  /**
   * "cached" (default where the value model has KV-cached decode states with its scalar head):
   * only new ids are run each round; "rescore": every partial response from scratch each round
   */
  scoring?: 'cached' | 'rescore';
}

/**
 * Integrated value guidance: chunks are sampled token by token from the EFT mixture
 * large + w·(tuned − untuned) (the implicit value), and the chunk-level beam search ranks them
 * by the explicit value model V(x, y≤t). Without a guidance pair the chunks come from the large
 * model alone (the "explicit value only" cell of the paper's grid). The value's β scale drops
 * out of the ranking.
 */
export async function integratedValueGuidance(
  large: LanguageModel,
  pair: GuidancePair | null,
  value: ValueModel,
  prompt: string,
  options: IvgOptions,
): Promise<SteerResult> {
  const shape = beamShape(options, W2S_DEFAULTS);
  const meter = new UsageMeter({ large, tuned: pair?.tuned, untuned: pair?.untuned, value });
  const terms = pair
    ? eftTerms(large, pair, prompt, options.beta ?? 1, options.largeFormat)
    : [{ role: 'large', model: large, weight: 1, prompt: renderPrompt(options.largeFormat, prompt, large.tokenizer) }];
  if (terms.length > 1) assertSameVocabulary(terms, 'ivg');
  const sampler = await TokenStreamSampler.open(
    terms.filter((t) => t.weight !== 0),
    shape.beams * shape.successors,
    { ...options, method: 'ivg' },
    createRng(options.seed ?? 0),
  );
  let scorer: BeamScorer;
  try {
    const size = shape.beams * shape.successors;
    scorer = await cachedOrRescoring(
      options.scoring,
      value.openCached && (() => value.openCached!(prompt, size)),
      () => beamScorerOf(valueScorer(value)),
      `the value model "${value.id}"`,
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
    return { method: 'ivg', ...found, usage: meter.delta() };
  });
}
