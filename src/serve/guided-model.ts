import { AlignkitError } from '../errors.ts';
import { requireScalarHead } from '../decode/scalar-head.ts';
import { runSteerMethod, steerMethodNamed, type SteerModels } from '../decode/steer-methods/index.ts';
import { valueModelFromHead } from '../decode/value-model.ts';
import {
  emptyUsage,
  type Capabilities,
  type LanguageModel,
  type OptionalCapability,
  type Sample,
  type SampleRequest,
  type Usage,
} from '../lm/language-model.ts';
import type { Tokenizer } from '../tokenizers/tokenizer.ts';
import { GUIDED_ROLES, type GuidedConfig, type GuidedRole } from './guided-config.ts';
import type { Streaming } from './served-model.ts';

/** Turns a steering method with its models and settings into a `sample` function. */
export function steeringSampler(
  config: GuidedConfig,
  models: SteerModels,
): (req: SampleRequest, tokenizer: Tokenizer) => Promise<Sample[]> {
  return async (req, tokenizer) => {
    const prompt = typeof req.prompt === 'string' ? req.prompt : tokenizer.decode(req.prompt);
    const firstSeed = req.seed ?? Math.floor(Math.random() * 2 ** 31);
    const out: Sample[] = [];
    for (let i = 0; i < (req.n ?? 1); i++) {
      const result = await runSteerMethod(config.method, models, prompt, {
        ...config.settings,
        formats: config.settings.formats,
        maxNewTokens: req.maxNewTokens,
        temperature: req.temperature,
        topK: req.topK,
        topP: req.topP,
        stop: req.stop,
        seed: firstSeed + i,
        onSettled: req.onSettledText && ((text) => req.onSettledText!(i, text)),
      });
      out.push({ text: result.text, tokens: result.tokens, finishReason: result.finishReason });
    }
    return out;
  };
}

/**
 * A guided model as a LanguageModel: it samples through its steering method and does nothing
 * else (no scoring, no decode states). Its tokenizer is the sampling model's.
 */
export class GuidedModel implements LanguageModel {
  readonly capabilities: Capabilities;
  readonly tokenizer: Tokenizer;
  readonly eosIds: readonly number[];
  readonly missing: Record<OptionalCapability, string>;
  private readonly sampler: ReturnType<typeof steeringSampler>;

  constructor(
    readonly id: string,
    readonly config: GuidedConfig,
    private readonly loaded: Partial<Record<GuidedRole, LanguageModel>>,
  ) {
    const sampling = loaded.large ?? loaded.base;
    if (!sampling)
      throw new AlignkitError('input', `guided model ${id} has no large (or base) model`, { field: 'models.large' });
    this.tokenizer = sampling.tokenizer;
    this.eosIds = sampling.eosIds;
    const onlySamples = `a guided ${config.method} model only samples`;
    this.missing = { scoring: onlySamples, decoding: onlySamples };
    this.capabilities = {
      fullLogits: false,
      topLogprobs: 0,
      scoring: false,
      hiddenStates: false,
      tokenIds: true,
      maxContext: sampling.capabilities.maxContext,
    };
    const models: SteerModels = {
      large: sampling,
      tuned: loaded.tuned,
      untuned: loaded.untuned,
      base: loaded.base,
      aligned: loaded.aligned,
      value: loaded.value ? valueModelFromHead(requireScalarHead(loaded.value, 'value')) : undefined,
    };
    this.sampler = steeringSampler(config, models);
  }

  /**
   * How its method streams (each method declares it), except that a token-level method whose
   * sampling model is text-only gets its response whole.
   */
  get streaming(): Streaming {
    const declared = steerMethodNamed(this.config.method).streaming;
    const { fullLogits, tokenIds } = (this.loaded.large ?? this.loaded.base)!.capabilities;
    return declared.unit === 'token' && !(fullLogits && tokenIds)
      ? { unit: 'whole', why: 'the sampling model is text-only, so its response arrives whole' }
      : declared;
  }

  /** Tokens processed by all the models it combines. */
  get usage(): Usage {
    const total = emptyUsage();
    for (const m of new Set(Object.values(this.loaded))) {
      total.promptTokens += m.usage.promptTokens;
      total.generatedTokens += m.usage.generatedTokens;
      total.processedTokens += m.usage.processedTokens;
    }
    return total;
  }

  sample(req: SampleRequest): Promise<Sample[]> {
    return this.sampler(req, this.tokenizer);
  }

  /** The models belong to whoever loaded them (they may be shared with other served models). */
  async dispose(): Promise<void> {}
}

/** Loads a guided config's models through `load` (which may share instances) and wraps them. */
export async function loadGuidedModel(
  name: string,
  config: GuidedConfig,
  load: (ref: string, tokenizer?: string) => Promise<LanguageModel>,
): Promise<GuidedModel> {
  const loaded: Partial<Record<GuidedRole, LanguageModel>> = {};
  for (const role of GUIDED_ROLES) {
    const ref = config.models[role];
    if (ref) loaded[role] = await load(ref, config.tokenizer);
  }
  return new GuidedModel(`guided:${name}`, config, loaded);
}
