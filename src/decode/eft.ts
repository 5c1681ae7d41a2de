import type { LanguageModel } from '../lm/language-model.ts';
import { inputError } from '../errors.ts';
import { createRng } from '../util/random.ts';
import type { SamplingOptions } from './chunk-sampler.ts';
import type { GuidancePair } from './log-ratio.ts';
import { type PromptFormat, renderPrompt } from '../lm/prompt-format.ts';
import type { SeedOption, SteerResult } from './steer-result.ts';
import { type WeightedModel, sampleMixture } from './token-stream-sampler.ts';
import { UsageMeter } from './usage.ts';

export interface EftOptions extends SamplingOptions, SeedOption {
  /** strength of the small models' fine-tuning delta (default 1) */
  beta?: number;
  largeFormat?: PromptFormat;
}

/** The three EFT terms for one prompt: large + β·(tuned − untuned), each model in its own format. */
export function eftTerms(
  large: LanguageModel,
  pair: GuidancePair,
  prompt: string,
  beta: number,
  largeFormat?: PromptFormat,
): WeightedModel[] {
  if (!Number.isFinite(beta)) throw inputError(`--beta must be a finite number, got ${beta}`, { field: 'beta' });
  return [
    { role: 'large', model: large, weight: 1, prompt: renderPrompt(largeFormat, prompt, large.tokenizer) },
    {
      role: 'tuned',
      model: pair.tuned,
      weight: beta,
      prompt: renderPrompt(pair.tunedFormat, prompt, pair.tuned.tokenizer),
    },
    {
      role: 'untuned',
      model: pair.untuned,
      weight: -beta,
      prompt: renderPrompt(pair.untunedFormat, prompt, pair.untuned.tokenizer),
    },
  ];
}

/**
 * Emulated fine-tuning / proxy tuning (token level): samples from
 * log-softmax(log p_large + β·(log p_tuned − log p_untuned)), temperature/top-k/top-p applied
 * after mixing. All three models must share one vocabulary.
 */
export async function emulatedFineTuning(
  large: LanguageModel,
  pair: GuidancePair,
  prompt: string,
  options: EftOptions,
): Promise<SteerResult> {
  const meter = new UsageMeter({ large, tuned: pair.tuned, untuned: pair.untuned });
  const terms = eftTerms(large, pair, prompt, options.beta ?? 1, options.largeFormat);
  const [row] = await sampleMixture(terms, 1, { ...options, method: 'eft' }, createRng(options.seed ?? 0));
  return {
    method: 'eft',
    text: row.text,
    tokens: row.tokens,
    finishReason: row.finishReason ?? 'length',
    score: null,
    usage: meter.delta(),
  };
}
