import type { LanguageModel } from '../lm/language-model.ts';
import type { Rng } from '../util/random.ts';
import type { ChunkSampler, SamplingOptions } from './chunk-sampler.ts';
import { TokenStreamSampler } from './token-stream-sampler.ts';
import { TextChunkSampler } from './text-chunk-sampler.ts';

/**
 * Samples `size` responses of one model to one prompt, chunk by chunk: token by token over a
 * KV-cached DecodeState when the backend gives next-token log-probs, otherwise through text
 * `sample` requests (black-box models).
 */
export async function openModelSampler(
  model: LanguageModel,
  prompt: string,
  size: number,
  options: SamplingOptions & { role?: string },
  rng: Rng,
): Promise<ChunkSampler> {
  const { fullLogits, tokenIds } = model.capabilities;
  if (fullLogits && tokenIds)
    return TokenStreamSampler.open([{ role: options.role ?? 'large', model, weight: 1, prompt }], size, options, rng);
  return TextChunkSampler.create(model, prompt, size, options, rng);
}
