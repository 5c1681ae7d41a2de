/**
 * What a steering method is to alignkit: a name, the model roles it combines, its settings (an
 * option spec: the CLI's `steer` flags and the guided-model config keys are derived from it) and
 * its run function on one prompt. Each method is one module in this folder, registered in
 * index.ts; `defineSteerMethod` types its settings from its own spec.
 */
import { inputError } from '../../errors.ts';
import type { LanguageModel } from '../../lm/language-model.ts';
import { resolveOptions, type OptionSpecs, type OptionValues } from '../../util/option-spec.ts';
import type { SamplingOptions } from '../chunk-sampler.ts';
import type { PromptFormat } from '../../lm/prompt-format.ts';
import type { Scorer } from '../scorer.ts';
import type { SeedOption, SteerResult } from '../steer-result.ts';
import type { ValueModel } from '../value-model.ts';

export const STEER_ROLES = ['large', 'tuned', 'untuned', 'base', 'aligned', 'value'] as const;
export type SteerRole = (typeof STEER_ROLES)[number];

/** What each role is, for help pages and the README. */
export const ROLE_DESCRIPTIONS: Record<SteerRole, string> = {
  large: 'the model being steered (it samples the response)',
  tuned: 'the small tuned model of the guiding pair',
  untuned: 'the small untuned model of the guiding pair',
  base: "emulated disalignment's pre-trained model (default --large)",
  aligned: "emulated disalignment's aligned model (default --tuned)",
  value: 'a value model trained by `alignkit train value` (a scalar head)',
};

/** The models a steering run may use; each method takes the ones it needs. */
export interface SteerModels {
  large: LanguageModel;
  tuned?: LanguageModel;
  untuned?: LanguageModel;
  base?: LanguageModel;
  aligned?: LanguageModel;
  value?: ValueModel;
}

/** Sampling of the response, the same for every method (and a guided model's request). */
export interface SteerSampling extends SamplingOptions, SeedOption {
  onProgress?: (p: { round: number; generated: number; finished: number; rows: number }) => void;
}

/** What a method gets besides its settings: how each model sees the prompt, and the run's gold reward. */
export interface MethodContext {
  formats?: Partial<Record<Exclude<SteerRole, 'value'>, PromptFormat>>;
  /** the run's gold reward (Best-of-N may rank by it) */
  gold?: Scorer;
}

/**
 * How soon a method's response text is final, so how finely it can be streamed (through
 * `SamplingOptions.onSettled`): every sampled token (a token-level method), after each chunk
 * (a search: the text all its kept beams share), or only at the end, with the reason.
 */
export type SteerStreaming = { unit: 'token' | 'chunk' } | { unit: 'whole'; why: string };

/** A role the method needs, or one of alternatives (ED: base or large); "reward" is the run's gold reward. */
export type RoleRequirement = readonly (SteerRole | 'reward')[];

export interface SteerMethodSpec<S extends OptionSpecs> {
  name: string;
  /** one line */
  summary: string;
  /** every role the method can use */
  roles: readonly SteerRole[];
  /** the roles it needs with these settings: each entry is satisfied by any one of its roles */
  requires(settings: OptionValues<S>): readonly RoleRequirement[];
  streaming: SteerStreaming;
  settings: S;
  run(
    models: SteerModels,
    prompt: string,
    sampling: SteerSampling,
    settings: OptionValues<S>,
    context: MethodContext,
  ): Promise<SteerResult>;
}

/** A method as the registry holds it: settings given as raw values, validated by its spec. */
export interface SteerMethod {
  name: string;
  summary: string;
  roles: readonly SteerRole[];
  streaming: SteerStreaming;
  settings: OptionSpecs;
  /** its settings from a bag that may hold other methods' too (a --compare run has one bag) */
  resolve(settings: Readonly<Record<string, unknown>>): Record<string, unknown>;
  requires(settings: Readonly<Record<string, unknown>>): readonly RoleRequirement[];
  run(
    models: SteerModels,
    prompt: string,
    sampling: SteerSampling,
    settings: Readonly<Record<string, unknown>>,
    context?: MethodContext,
  ): Promise<SteerResult>;
}

export function defineSteerMethod<const S extends OptionSpecs>(spec: SteerMethodSpec<S>): SteerMethod {
  const own = (settings: Readonly<Record<string, unknown>>) =>
    resolveOptions(spec.settings, Object.fromEntries(Object.keys(spec.settings).map((key) => [key, settings[key]])));
  return {
    name: spec.name,
    summary: spec.summary,
    roles: spec.roles,
    streaming: spec.streaming,
    settings: spec.settings,
    resolve: own,
    requires: (settings) => spec.requires(own(settings)),
    run: (models, prompt, sampling, settings, context = {}) =>
      spec.run(models, prompt, sampling, own(settings), context),
  };
}

/** The small pair of a method that needs both (an input error naming the missing role otherwise). */
export function guidancePair(method: string, models: SteerModels, context: MethodContext) {
  if (!models.tuned || !models.untuned)
    throw inputError(`method ${method} needs --tuned and --untuned models`, {
      field: models.tuned ? 'untuned' : 'tuned',
    });
  const f = context.formats ?? {};
  return { tuned: models.tuned, untuned: models.untuned, tunedFormat: f.tuned, untunedFormat: f.untuned };
}

/** The chunk-level search of weak-to-strong search and IVG: W beams, K successors, chunks of L tokens. */
export const SEARCH_SETTINGS = {
  beams: {
    type: 'integer',
    min: 1,
    default: 4,
    flag: 'w',
    placeholder: 'W',
    description: 'beams kept after each chunk',
  },
  successors: {
    type: 'integer',
    min: 1,
    default: 4,
    flag: 'k',
    placeholder: 'K',
    description: 'successors sampled per beam',
  },
  chunkLength: {
    type: 'integer',
    min: 1,
    default: 5,
    infinity: true,
    flag: 'l',
    placeholder: 'L',
    description: 'chunk length in large-model tokens ("inf" = whole responses)',
  },
  scoring: {
    type: 'string',
    choices: ['cached', 'rescore'],
    description:
      'small-model (w2s) and value-model (ivg) scoring: KV caches kept across chunks (the default when the models keep decode states), or every response re-scored each chunk as the reference code does',
  },
} as const satisfies OptionSpecs;

export const BETA_SETTING = {
  beta: {
    type: 'number',
    default: 1,
    description: 'weight of the token-level guidance β·(log π_tuned − log π_untuned)',
  },
} as const satisfies OptionSpecs;
