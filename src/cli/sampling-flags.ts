/** Sampling flags shared by the commands that generate from a policy (train ilr-dpo, sweep modpo). */
import { inputError } from '../errors.ts';
import type { SampleSettings } from '../train/policy-samples.ts';
import { intFlag, numberFlag, type FlagSpec } from './args.ts';

export const samplingFlagSpec: FlagSpec = {
  'max-new-tokens': { type: 'string' },
  temperature: { type: 'string' },
  'top-p': { type: 'string' },
  'top-k': { type: 'string' },
  stop: { type: 'string', multiple: true },
  template: { type: 'string' },
};

export function samplingOf(
  values: Record<string, any>,
  samplesFlag: string,
  defaults: { samples: number; maxNewTokens: number },
): Omit<SampleSettings, 'seed'> {
  const samplesPerPrompt = intFlag(values, samplesFlag, defaults.samples);
  if (samplesPerPrompt < 1)
    throw inputError(`--${samplesFlag} must be at least 1, got ${samplesPerPrompt}`, { field: samplesFlag });
  const maxNewTokens = intFlag(values, 'max-new-tokens', defaults.maxNewTokens);
  if (maxNewTokens < 1)
    throw inputError(`--max-new-tokens must be at least 1, got ${maxNewTokens}`, { field: 'max-new-tokens' });
  const temperature = numberFlag(values, 'temperature', 1);
  if (temperature < 0) throw inputError(`--temperature must be ≥ 0, got ${temperature}`, { field: 'temperature' });
  return {
    samplesPerPrompt,
    maxNewTokens,
    temperature,
    topP: numberFlag(values, 'top-p'),
    topK: intFlag(values, 'top-k'),
    stop: values.stop,
    format: values.template,
  };
}
