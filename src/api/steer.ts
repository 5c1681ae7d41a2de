/**
 * Steering as a library (`alignkit/steer`): each method of decode/steer-methods as a function of
 * loaded models, one prompt and its options (the flags of `alignkit steer <method>`), and
 * `steerRun`, the whole `alignkit steer compare` run on a prompt file.
 */
import type { Scorer } from '../decode/scorer.ts';
import type { SteerModels as MethodModels, SteerSettings } from '../decode/steer-methods/index.ts';
import type { SteerRunResult } from '../decode/steer-run.ts';
import type { SteerResult } from '../decode/steer-result.ts';
import { inputError } from '../errors.ts';
import type { LanguageModel } from '../lm/language-model.ts';
import type { PromptFormat } from '../lm/prompt-format.ts';
import type { SteerValues } from '../cli/steer.ts';
import { checkOptions, RUN_CALLBACKS, runTargetOf, type RunCallbacks } from './check-options.ts';
import type { OptionSourceName } from './option-sources.ts';
import type * as Options from './option-types.ts';

/** The models a method combines, loaded (`loadModel`); each method takes the ones it needs. */
export interface SteerModels {
  /** the model being steered: it samples the response */
  large: LanguageModel;
  /** the small tuned model of the guiding pair (bestOfN, eft, weakToStrongSearch, ivg) */
  tuned?: LanguageModel;
  /** the small untuned model of the guiding pair */
  untuned?: LanguageModel;
  /** emulated disalignment's pre-trained model (default: `large`) */
  base?: LanguageModel;
  /** emulated disalignment's aligned model (default: `tuned`) */
  aligned?: LanguageModel;
  /** ivg's value model: a directory written by `trainValueModel` (a scalar head), loaded */
  value?: LanguageModel;
}

/** What every steering function takes besides its flags: prompt formats and, for bestOfN, a reward. */
export interface SteerExtras {
  /** how each model sees the prompt: a text with "{prompt}", "chat", or a function (default: the raw prompt) */
  formats?: Partial<Record<'large' | 'tuned' | 'untuned' | 'base' | 'aligned', PromptFormat>>;
  /** the gold reward bestOfN ranks by with `bonScorer: 'reward'` */
  gold?: Scorer;
}

const EXTRAS = ['formats', 'gold'] as const;

async function methodModels(models: SteerModels, fn: string): Promise<MethodModels> {
  if (typeof models !== 'object' || models === null || !models.large)
    throw inputError(
      `${fn} expects its models as { large, tuned?, untuned?, base?, aligned?, value? }, with large set`,
    );
  const { requireScalarHead } = await import('../decode/scalar-head.ts');
  const { valueModelFromHead } = await import('../decode/value-model.ts');
  const { value, ...rest } = models;
  return { ...rest, value: value && valueModelFromHead(requireScalarHead(value, 'value')) };
}

async function steer(
  method: string,
  source: OptionSourceName,
  fn: string,
  models: SteerModels,
  prompt: string,
  options: object | undefined,
): Promise<SteerResult> {
  if (typeof prompt !== 'string') throw inputError(`${fn} expects the prompt as a string, got ${typeof prompt}`);
  const { values, rest } = await checkOptions(source, fn, options, EXTRAS);
  const { runSteerMethod } = await import('../decode/steer-methods/index.ts');
  return runSteerMethod(method, await methodModels(models, fn), prompt, { ...values, ...rest } as SteerSettings);
}

/** Plain sampling from `models.large`: the baseline every method is compared with. */
export function sample(models: SteerModels, prompt: string, options?: Options.SampleOptions & SteerExtras) {
  return steer('sample', 'SampleOptions', 'sample', models, prompt, options);
}

/** Best-of-N: N samples of `large`, the best by the small pair's log-ratio (or `bonScorer`). */
export function bestOfN(models: SteerModels, prompt: string, options?: Options.BestOfNOptions & SteerExtras) {
  return steer('bon', 'BestOfNOptions', 'bestOfN', models, prompt, options);
}

/** Emulated fine-tuning / proxy tuning: large + β·(tuned − untuned) at every token (one vocabulary). */
export function eft(models: SteerModels, prompt: string, options?: Options.EftOptions & SteerExtras) {
  return steer('eft', 'EftOptions', 'eft', models, prompt, options);
}

/** Emulated disalignment: contrastive decoding that moves away from the aligned model (`base`, `aligned`). */
export function emulatedDisalignment(
  models: SteerModels,
  prompt: string,
  options?: Options.EmulatedDisalignmentOptions & SteerExtras,
) {
  return steer('ed', 'EmulatedDisalignmentOptions', 'emulatedDisalignment', models, prompt, options);
}

/** Weak-to-strong search: chunk-level beam search of `large`, ranked by log π_tuned − log π_untuned (any tokenizers). */
export function weakToStrongSearch(
  models: SteerModels,
  prompt: string,
  options?: Options.WeakToStrongSearchOptions & SteerExtras,
) {
  return steer('w2s', 'WeakToStrongSearchOptions', 'weakToStrongSearch', models, prompt, options);
}

/** Integrated value guidance: EFT-mixture chunks (with `tuned`/`untuned`) ranked by the `value` model. */
export function ivg(models: SteerModels, prompt: string, options?: Options.IvgOptions & SteerExtras) {
  return steer('ivg', 'IvgOptions', 'ivg', models, prompt, options);
}

/**
 * `alignkit steer compare` as a function: the methods of `compare` on every prompt of the
 * `prompts` file with the same seeds, models given by reference, gold `reward`, records streamed
 * to `out`, summary and report written.
 */
export async function steerRun(options: Options.SteerRunOptions & RunCallbacks): Promise<SteerRunResult> {
  const { STEER_METHODS } = await import('../decode/steer-methods/index.ts');
  const { steerRun: runSteering } = await import('../decode/steer-run.ts');
  const { steerRunOptions } = await import('../cli/steer.ts');
  const checked = await checkOptions('SteerRunOptions', 'steerRun', options, RUN_CALLBACKS);
  const methods = [...new Set(checked.values.compare as string[])].map((name) =>
    STEER_METHODS.find((m) => m.name === name)!,
  );
  return runSteering(steerRunOptions(methods, checked.values as SteerValues, runTargetOf(checked)));
}

export type { SteerResult, SteerRunResult, Scorer, PromptFormat };
export type {
  SampleOptions,
  BestOfNOptions,
  EftOptions,
  EmulatedDisalignmentOptions,
  WeakToStrongSearchOptions,
  IvgOptions,
  SteerRunOptions,
} from './option-types.ts';
