import type { LanguageModel } from '../lm/language-model.ts';
import { AlignkitError, inputError } from '../errors.ts';
import { bestOfN } from './best-of-n.ts';
import type { SamplingOptions } from './chunk-sampler.ts';
import { emulatedFineTuning } from './eft.ts';
import { emulatedDisalignment } from './emulated-disalignment.ts';
import { integratedValueGuidance } from './ivg.ts';
import { type GuidancePair, logRatioScorer } from './log-ratio.ts';
import { sampleResponse } from './plain-sampling.ts';
import type { PromptFormat } from './prompt-format.ts';
import type { Scorer } from './scorer.ts';
import type { SteerResult } from './steer-result.ts';
import type { ValueModel } from './value-model.ts';
import { W2S_DEFAULTS, weakToStrongSearch } from './weak-to-strong-search.ts';

export const STEER_METHODS = ['sample', 'bon', 'eft', 'ed', 'w2s', 'ivg'] as const;
export type SteerMethod = (typeof STEER_METHODS)[number];

export function isSteerMethod(name: string): name is SteerMethod {
  return (STEER_METHODS as readonly string[]).includes(name);
}

/** The models a steering run may use; each method takes the ones it needs. */
export interface SteerModels {
  large: LanguageModel;
  tuned?: LanguageModel;
  untuned?: LanguageModel;
  /** ED's pre-trained model (default: large) */
  base?: LanguageModel;
  /** ED's aligned model (default: tuned) */
  aligned?: LanguageModel;
  value?: ValueModel;
}

export interface SteerSettings extends SamplingOptions {
  seed?: number;
  /** W, K, L of w2s and ivg (defaults 4, 4, 5) */
  beams?: number;
  successors?: number;
  chunkLength?: number;
  /** Best-of-N sample count (default W·K, the same number of samples as the search) */
  n?: number;
  /** BoN's ranking (default: the small pair's log-ratio, as in the weak-to-strong paper) */
  bonScorer?: Scorer;
  beta?: number;
  alpha?: number;
  family?: string;
  /** w2s small-model and ivg value-model scoring (default cached when the models have decode states) */
  scoring?: 'cached' | 'rescore';
  formats?: {
    large?: PromptFormat;
    tuned?: PromptFormat;
    untuned?: PromptFormat;
    base?: PromptFormat;
    aligned?: PromptFormat;
  };
  onProgress?: (p: { round: number; generated: number; finished: number; rows: number }) => void;
}

/** Runs one steering method on one prompt: the single entry point the CLI and scripts share. */
export async function runSteerMethod(
  method: SteerMethod,
  models: SteerModels,
  prompt: string,
  s: SteerSettings,
): Promise<SteerResult> {
  const f = s.formats ?? {};
  const pair = (): GuidancePair => {
    if (!models.tuned || !models.untuned)
      throw inputError(`method ${method} needs --tuned and --untuned models`, {
        field: models.tuned ? 'untuned' : 'tuned',
      });
    return { tuned: models.tuned, untuned: models.untuned, tunedFormat: f.tuned, untunedFormat: f.untuned };
  };
  const search = { beams: s.beams, successors: s.successors, chunkLength: s.chunkLength, onProgress: s.onProgress };
  switch (method) {
    case 'sample':
      return sampleResponse(models.large, prompt, { ...s, largeFormat: f.large });
    case 'bon': {
      const n = s.n ?? (s.beams ?? W2S_DEFAULTS.beams) * (s.successors ?? W2S_DEFAULTS.successors);
      const scorer = s.bonScorer ?? logRatioScorer(pair());
      return bestOfN(models.large, prompt, { ...s, n, scorer, largeFormat: f.large });
    }
    case 'eft':
      return emulatedFineTuning(models.large, pair(), prompt, { ...s, largeFormat: f.large });
    case 'ed': {
      const base = models.base ?? models.large;
      const aligned = models.aligned ?? models.tuned;
      if (!aligned) throw inputError('method ed needs an aligned model (--aligned, or --tuned)', { field: 'aligned' });
      return emulatedDisalignment(base, aligned, prompt, { ...s, baseFormat: f.base, alignedFormat: f.aligned });
    }
    case 'w2s':
      return weakToStrongSearch(models.large, pair(), prompt, { ...s, ...search, largeFormat: f.large });
    case 'ivg': {
      if (!models.value)
        throw inputError('method ivg needs a value model (--value, trained by `alignkit train value`)', {
          field: 'value',
        });
      const guidance = models.tuned && models.untuned ? pair() : null;
      return integratedValueGuidance(models.large, guidance, models.value, prompt, {
        ...s,
        ...search,
        largeFormat: f.large,
      });
    }
    default:
      throw new AlignkitError('internal', `unknown method ${method satisfies never}`);
  }
}
