import type { LanguageModel } from '../lm/language-model.ts';
import { inputError } from '../errors.ts';
import { createRng } from '../util/random.ts';
import type { SamplingOptions } from './chunk-sampler.ts';
import { openModelSampler } from './large-model-sampler.ts';
import { type PromptFormat, renderPrompt } from '../lm/prompt-format.ts';
import { type Scorer, argmax, scoreChecked } from './scorer.ts';
import type { SeedOption, SteerResult } from './steer-result.ts';
import { UsageMeter } from './usage.ts';

export interface BestOfNOptions extends SamplingOptions, SeedOption {
  n: number;
  scorer: Scorer;
  largeFormat?: PromptFormat;
}

/**
 * Best-of-N: N responses sampled from the large model, the best by `scorer` returned (ties to
 * the earlier sample). The samples are the ones chunkBeamSearch draws with W=1, K=N, L=∞ and the
 * same seed.
 */
export async function bestOfN(large: LanguageModel, prompt: string, options: BestOfNOptions): Promise<SteerResult> {
  if (!Number.isInteger(options.n) || options.n < 1)
    throw inputError(`Best-of-N needs N ≥ 1, got ${options.n}`, { field: 'n' });
  const meter = new UsageMeter({ large, ...options.scorer.models });
  const sampler = await openModelSampler(
    large,
    renderPrompt(options.largeFormat, prompt, large.tokenizer),
    options.n,
    options,
    createRng(options.seed ?? 0),
  );
  try {
    await sampler.extend(Infinity);
    const rows = sampler.rows();
    const scores = await scoreChecked(
      options.scorer,
      rows.map((r) => ({ prompt, response: r.text, finishReason: r.finishReason })),
    );
    const best = argmax(scores);
    return {
      method: 'bon',
      text: rows[best].text,
      tokens: [...rows[best].tokens],
      finishReason: rows[best].finishReason ?? 'length',
      score: scores[best],
      usage: meter.delta(),
      candidates: rows.map((r, i) => ({ text: r.text, score: scores[i], finishReason: r.finishReason })),
    };
  } finally {
    sampler.close();
  }
}
