/** Weak-to-strong search: chunk-level beam search of the large model ranked by the small pair's log-ratio. */
import { weakToStrongSearch } from '../weak-to-strong-search.ts';
import { defineSteerMethod, guidancePair, SEARCH_SETTINGS } from './steer-method.ts';

export const w2s = defineSteerMethod({
  name: 'w2s',
  summary: 'weak-to-strong search: chunk-level beam search ranked by log π_tuned − log π_untuned (any tokenizer)',
  roles: ['large', 'tuned', 'untuned'],
  streaming: { unit: 'chunk' },
  requires: () => [['large'], ['tuned'], ['untuned']],
  settings: SEARCH_SETTINGS,
  run: (models, prompt, sampling, s, context) =>
    weakToStrongSearch(models.large, guidancePair('w2s', models, context), prompt, {
      ...sampling,
      beams: s.beams,
      successors: s.successors,
      chunkLength: s.chunkLength,
      scoring: s.scoring,
      largeFormat: context.formats?.large,
    }),
});
