/** Integrated value guidance: chunks of the EFT mixture (or of the large model alone) ranked by a value model. */
import { inputError } from '../../errors.ts';
import { integratedValueGuidance } from '../ivg.ts';
import { BETA_SETTING, defineSteerMethod, guidancePair, SEARCH_SETTINGS } from './steer-method.ts';

export const ivg = defineSteerMethod({
  name: 'ivg',
  summary: 'integrated value guidance: EFT-mixture chunks (with --tuned/--untuned) ranked by a value model (--value)',
  roles: ['large', 'value', 'tuned', 'untuned'],
  streaming: { unit: 'chunk' },
  requires: () => [['large'], ['value']],
  settings: { ...SEARCH_SETTINGS, ...BETA_SETTING },
  run(models, prompt, sampling, s, context) {
    if (!models.value)
      throw inputError('method ivg needs a value model (--value, trained by `alignkit train value`)', {
        field: 'value',
      });
    const guidance = models.tuned && models.untuned ? guidancePair('ivg', models, context) : null;
    return integratedValueGuidance(models.large, guidance, models.value, prompt, {
      ...sampling,
      beams: s.beams,
      successors: s.successors,
      chunkLength: s.chunkLength,
      scoring: s.scoring,
      beta: s.beta,
      largeFormat: context.formats?.large,
    });
  },
});
