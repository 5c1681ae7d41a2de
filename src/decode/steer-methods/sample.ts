/** Plain sampling from the large model: the baseline every method is compared with. */
import { sampleResponse } from '../plain-sampling.ts';
import { defineSteerMethod } from './steer-method.ts';

export const sample = defineSteerMethod({
  name: 'sample',
  summary: 'plain sampling from --large (the baseline)',
  roles: ['large'],
  streaming: { unit: 'token' },
  requires: () => [['large']],
  settings: {},
  run: (models, prompt, sampling, _settings, context) =>
    sampleResponse(models.large, prompt, { ...sampling, largeFormat: context.formats?.large }),
});
