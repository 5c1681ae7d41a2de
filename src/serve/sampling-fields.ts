import { refusedField } from './field-policy.ts';
import type { GenerationParams } from './generation.ts';
import { MAX_STOP_STRINGS, specOrServerMax, type GatewayLimits } from './limits.ts';
import type { RequestFields } from './request-fields.ts';

/** The sampling knobs every generation endpoint shares, validated against the specification's ranges. */
export type SamplingFields = Omit<GenerationParams, 'topLogprobs' | 'logprobs' | 'maxNewTokens' | 'n'>;

/** temperature and top_p, the knobs of all three endpoints. */
export function readTemperatureTopP(fields: RequestFields): { temperature: number; topP: number } {
  return {
    temperature: fields.number('temperature', 1, { min: 0, max: 2 }),
    // top_p 0 keeps only the most likely token (greedy), as the specification's range allows
    topP: fields.number('top_p', 1, { min: 0, max: 1 }),
  };
}

/** Chat and completions: temperature, top_p, stop and seed, and vLLM's top_k. */
export function readSamplingFields(fields: RequestFields): SamplingFields {
  fields.number('repetition_penalty', undefined, { min: 0 });
  if (fields.has('repetition_penalty') && fields.raw('repetition_penalty') !== 1)
    throw refusedField('repetition_penalty', 'penalties are not implemented (only 1 is accepted)');
  const topK = fields.int('top_k', 0, { min: -1 });
  return {
    ...readTemperatureTopP(fields),
    topK: topK < 0 ? 0 : topK,
    seed: fields.int('seed', undefined, { min: Number.MIN_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER }),
    stop: fields.stringList('stop', MAX_STOP_STRINGS),
  };
}

/** `n` (1…128 by the specification, at most --max-n here) and completions' `best_of`, which must equal it. */
export function readChoiceCount(fields: RequestFields, limits: GatewayLimits): number {
  const n = fields.int('n', 1, { min: 1, ...specOrServerMax(128, limits, 'maxN') });
  const bestOf = fields.int('best_of', undefined, { min: 0, max: 20 });
  if (bestOf !== undefined && bestOf !== n)
    throw refusedField('best_of', `server-side best-of ranking is not implemented (best_of must equal n, ${n})`);
  return n;
}

/** `stream_options`, read before a stream starts: `include_usage` (chat and completions). */
export function includeUsage(fields: RequestFields): boolean {
  return fields.flags('stream_options', ['include_usage', 'include_obfuscation']).include_usage === true;
}
