import type { GenerationParams } from './generation.ts';
import type { GatewayLimits } from './limits.ts';
import type { RequestFields } from './request-fields.ts';

/**
 * The sampling knobs shared by /v1/completions and /v1/chat/completions, validated. Penalties
 * and logit biases are refused unless neutral: the gateway does not implement them.
 */
export function readSamplingFields(
  fields: RequestFields,
  limits: GatewayLimits,
  maxTokens: number,
): Omit<GenerationParams, 'topLogprobs' | 'maxNewTokens'> & { maxTokens: number } {
  const n = fields.int('n', 1, { min: 1, max: limits.maxN });
  const bestOf = fields.int('best_of', undefined, { min: 1 });
  if (bestOf !== undefined && bestOf !== n) fields.unsupported('best_of', n);
  fields.unsupported('presence_penalty', 0);
  fields.unsupported('frequency_penalty', 0);
  fields.unsupported('repetition_penalty', 1);
  fields.unsupported('logit_bias', {});
  const topK = fields.int('top_k', 0, { min: -1 });
  return {
    n,
    maxTokens,
    temperature: fields.number('temperature', 1, { min: 0, max: 100 }),
    topP: fields.number('top_p', 1, { min: Number.MIN_VALUE, max: 1 }),
    topK: topK < 0 ? 0 : topK,
    seed: fields.int('seed', undefined, { min: Number.MIN_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER }),
    stop: fields.stringList('stop', limits.maxStop),
  };
}

/** `stream_options.include_usage` */
export function includeUsage(fields: RequestFields): boolean {
  const options = fields.object('stream_options');
  return options?.include_usage === true;
}
