/** Best-of-N: N samples of the large model, the best by the small pair's log-ratio (or a reward). */
import { inputError } from '../../errors.ts';
import { bestOfN } from '../best-of-n.ts';
import { logRatioScorer } from '../log-ratio.ts';
import { sentimentReward } from '../rewards.ts';
import type { Scorer } from '../scorer.ts';
import { defineSteerMethod, guidancePair, SEARCH_SETTINGS } from './steer-method.ts';

export const bon = defineSteerMethod({
  name: 'bon',
  summary: "Best-of-N: N samples of --large, the best by the small pair's log-ratio (or --bon-scorer)",
  roles: ['large', 'tuned', 'untuned'],
  streaming: {
    unit: 'whole',
    why: 'best-of-n ranks complete responses, so no text is final before all of them are done',
  },
  requires: (s) =>
    s.bonScorer === 'log-ratio'
      ? [['large'], ['tuned'], ['untuned']]
      : s.bonScorer === 'reward'
        ? [['large'], ['reward']]
        : [['large']],
  settings: {
    n: {
      type: 'integer',
      min: 1,
      description: "samples (default W·K: the search's sample count, for matched compute)",
    },
    beams: { ...SEARCH_SETTINGS.beams, description: 'with --k, sets the default --n' },
    successors: { ...SEARCH_SETTINGS.successors, description: 'with --w, sets the default --n' },
    bonScorer: {
      type: 'string',
      choices: ['log-ratio', 'reward', 'vader', 'afinn'],
      default: 'log-ratio',
      description:
        "how samples are ranked: the small pair's log-ratio (as in the weak-to-strong paper), the run's gold --reward (an oracle upper bound), or a sentiment lexicon",
    },
  },
  run(models, prompt, sampling, s, context) {
    let scorer: Scorer;
    if (s.bonScorer === 'log-ratio') scorer = logRatioScorer(guidancePair('bon', models, context));
    else if (s.bonScorer === 'reward') {
      if (!context.gold)
        throw inputError('--bon-scorer reward ranks by the gold reward: give --reward', { field: 'bon-scorer' });
      scorer = context.gold;
    } else scorer = sentimentReward({ lexicon: s.bonScorer });
    return bestOfN(models.large, prompt, {
      ...sampling,
      n: s.n ?? s.beams * s.successors,
      scorer,
      largeFormat: context.formats?.large,
    });
  },
});
