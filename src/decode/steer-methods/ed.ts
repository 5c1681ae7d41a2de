/** Emulated disalignment: (1+α)·base − α·aligned at the token level (an attack, for safety evaluation). */
import { inputError } from '../../errors.ts';
import { ED_FAMILIES, emulatedDisalignment } from '../emulated-disalignment.ts';
import { defineSteerMethod } from './steer-method.ts';

export const ed = defineSteerMethod({
  name: 'ed',
  summary:
    'emulated disalignment: (1+α)·base − α·aligned, token level (--base default --large, --aligned default --tuned)',
  roles: ['base', 'aligned', 'large', 'tuned'],
  streaming: { unit: 'token' },
  requires: () => [
    ['base', 'large'],
    ['aligned', 'tuned'],
  ],
  settings: {
    alpha: { type: 'number', min: 0, description: "strength α (default: the family's, else 0.3)" },
    family: {
      type: 'string',
      flag: 'ed-family',
      choices: Object.keys(ED_FAMILIES),
      description: "the paper's per-family α, prompt formats and stop strings",
    },
  },
  run(models, prompt, sampling, s, context) {
    const aligned = models.aligned ?? models.tuned;
    if (!aligned) throw inputError('method ed needs an aligned model (--aligned, or --tuned)', { field: 'aligned' });
    return emulatedDisalignment(models.base ?? models.large, aligned, prompt, {
      ...sampling,
      alpha: s.alpha,
      family: s.family,
      baseFormat: context.formats?.base,
      alignedFormat: context.formats?.aligned,
    });
  },
});
