/** Emulated fine-tuning / proxy tuning: large + β·(tuned − untuned) at the token level (one vocabulary). */
import { emulatedFineTuning } from '../eft.ts';
import { BETA_SETTING, defineSteerMethod, guidancePair } from './steer-method.ts';

export const eft = defineSteerMethod({
  name: 'eft',
  summary: 'emulated fine-tuning / proxy tuning: large + β·(tuned − untuned), token level, one vocabulary',
  roles: ['large', 'tuned', 'untuned'],
  streaming: { unit: 'token' },
  requires: () => [['large'], ['tuned'], ['untuned']],
  settings: BETA_SETTING,
  run: (models, prompt, sampling, s, context) =>
    emulatedFineTuning(models.large, guidancePair('eft', models, context), prompt, {
      ...sampling,
      beta: s.beta,
      largeFormat: context.formats?.large,
    }),
});
