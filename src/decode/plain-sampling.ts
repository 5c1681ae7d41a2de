import type { LanguageModel } from '../lm/language-model.ts';
import { createRng } from '../util/random.ts';
import type { SamplingOptions } from './chunk-sampler.ts';
import { openModelSampler } from './large-model-sampler.ts';
import { type PromptFormat, renderPrompt } from '../lm/prompt-format.ts';
import type { SeedOption, SteerResult } from './steer-result.ts';
import { UsageMeter } from './usage.ts';

export interface PlainSamplingOptions extends SamplingOptions, SeedOption {
  largeFormat?: PromptFormat;
}

/** The baseline: one response sampled from the large model alone. */
export async function sampleResponse(
  large: LanguageModel,
  prompt: string,
  options: PlainSamplingOptions,
): Promise<SteerResult> {
  const meter = new UsageMeter({ large });
  const sampler = await openModelSampler(
    large,
    renderPrompt(options.largeFormat, prompt, large.tokenizer),
    1,
    options,
    createRng(options.seed ?? 0),
  );
  try {
    await sampler.extend(Infinity);
    const [row] = sampler.rows();
    return {
      method: 'sample',
      text: row.text,
      tokens: [...row.tokens],
      finishReason: row.finishReason ?? 'length',
      score: null,
      usage: meter.delta(),
    };
  } finally {
    sampler.close();
  }
}
