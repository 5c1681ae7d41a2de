/**
 * `alignkit/ai-sdk`: alignkit models as Vercel AI SDK language models (provider specification
 * v4), run in-process by `generateText`, `streamText` and the rest of the `ai` package:
 *
 *     import { generateText } from 'ai';
 *     import { alignkit } from 'alignkit/ai-sdk';
 *     const { text } = await generateText({ model: alignkit('path/to/model'), prompt: 'Once upon a time' });
 *
 * A model is a local checkpoint, `BASE_URL#MODEL` (an OpenAI-compatible server), a model already
 * loaded, or — through `alignkit.guided(...)` — a guided configuration exactly as
 * `alignkit serve --guided` takes it (a YAML/JSON file, or the same object): a steering method
 * (w2s, eft, ivg, bon, ...) over several models. Models load on first use and are shared by the
 * provider's language models; `close()` frees them.
 */
import { existsSync } from 'node:fs';
import { NoSuchModelError, type LanguageModelV4, type ProviderV4 } from '@ai-sdk/provider';
import { inputError } from '../errors.ts';
import type { LanguageModel } from '../lm/language-model.ts';
import { parseModelRef } from '../lm/model-ref.ts';
import type { ModelPool } from '../run/model-pool.ts';
import type { GuidedModelConfig } from '../api/serve.ts';
import { parseGuidedConfig, readGuidedConfig } from '../serve/guided-config.ts';
import type { ServedModel } from '../serve/served-model.ts';
import { resolveOptions, type OptionNaming, type OptionSpecs } from '../util/option-spec.ts';
import { AlignkitLanguageModel } from './language-model.ts';
import type { PromptFormatName } from './prompt.ts';

/** How a provider loads its models and turns calls into generations. */
export interface AlignkitProviderSettings {
  /** tokenizer of local checkpoints that have none beside them (HF directory, tokenizer.json or llama2.c .bin) */
  tokenizer?: string;
  /** environment variable holding the API key of remote models (default OPENAI_API_KEY) */
  apiKeyEnv?: string;
  /** on-disk response cache of remote models */
  cacheDir?: string;
  /**
   * how the call's messages become the prompt: "chat" (the model's chat template), "text" (the
   * messages' text joined by newlines, for base models), or "auto" (default: chat when the
   * tokenizer has a chat template, text otherwise)
   */
  promptFormat?: PromptFormatName;
  /** response tokens at most when a call sets no maxOutputTokens (default 256; never past the context) */
  defaultMaxOutputTokens?: number;
}

const SETTINGS = {
  tokenizer: { type: 'string', description: 'tokenizer of local checkpoints that have none beside them' },
  apiKeyEnv: { type: 'string', description: 'environment variable holding the API key of remote models' },
  cacheDir: { type: 'string', description: 'on-disk response cache of remote models' },
  promptFormat: {
    type: 'string',
    choices: ['auto', 'chat', 'text'],
    default: 'auto',
    description: "how the call's messages become the prompt",
  },
  defaultMaxOutputTokens: {
    type: 'integer',
    min: 1,
    default: 256,
    description: 'response tokens at most when a call sets none',
  },
} as const satisfies OptionSpecs;

const naming: OptionNaming = { noun: 'setting', name: (key) => `"${key}"`, where: () => ({}) };

/** The provider: call it (or `languageModel`) with a model, or `guided` with a guided configuration. */
export interface AlignkitProvider extends ProviderV4 {
  /** A local checkpoint path, `BASE_URL#MODEL`, or a model loaded with `loadModel` (which stays yours to dispose). */
  (model: string | LanguageModel): LanguageModelV4;
  languageModel(model: string | LanguageModel): LanguageModelV4;
  /**
   * A guided model: a YAML/JSON file as `alignkit serve --guided` takes it, or the same
   * configuration as an object, e.g. `{ method: 'w2s', models: { large, tuned, untuned }, settings: { beams: 2 } }`
   * (relative paths in a file are relative to the file; in an object, to the working directory).
   */
  guided(config: string | GuidedModelConfig): LanguageModelV4;
  /** Frees the models this provider loaded. */
  close(): Promise<void>;
}

/** A provider with its own settings and model pool. */
export function createAlignkit(settings: AlignkitProviderSettings = {}): AlignkitProvider {
  if (typeof settings !== 'object' || settings === null)
    throw inputError(`createAlignkit expects a settings object, got ${String(settings)}`);
  const s = resolveOptions(SETTINGS, settings as Record<string, unknown>, naming);
  // the models (and onnxruntime) load on the first call, not when the provider is made
  let pool: ModelPool | undefined;
  const poolOf = async () => {
    const { ModelPool } = await import('../run/model-pool.ts');
    return (pool ??= new ModelPool({ tokenizer: s.tokenizer, apiKeyEnv: s.apiKeyEnv, cacheDir: s.cacheDir }));
  };
  const serveModel = async (name: string, model: LanguageModel | Promise<LanguageModel>) =>
    (await import('../serve/served-model.ts')).serveModel(name, await model);
  const defaults = { promptFormat: s.promptFormat, maxOutputTokens: s.defaultMaxOutputTokens };
  /** Loads once, on the first call; a failed load is retried by the next call. */
  const lazily = (load: () => Promise<ServedModel>) => {
    let served: Promise<ServedModel> | undefined;
    return () => (served ??= load().catch((e) => ((served = undefined), Promise.reject(e))));
  };

  const languageModel = (model: string | LanguageModel): LanguageModelV4 => {
    if (typeof model === 'string') {
      const ref = parseModelRef(model);
      if (ref.kind === 'local' && !existsSync(ref.path))
        throw inputError('model not found (expected an HF directory, a GGUF file, a llama2.c .bin or BASE_URL#MODEL)', {
          file: ref.path,
        });
      return new AlignkitLanguageModel(
        model,
        lazily(async () => serveModel(model, (await poolOf()).load(model))),
        defaults,
      );
    }
    if (typeof model !== 'object' || model === null || typeof model.sample !== 'function')
      throw inputError('alignkit(model) expects a model path, BASE_URL#MODEL or a loaded LanguageModel');
    return new AlignkitLanguageModel(
      model.id,
      lazily(() => serveModel(model.id, model)),
      defaults,
    );
  };

  const guided = (config: string | GuidedModelConfig): LanguageModelV4 => {
    const parsed = typeof config === 'string' ? readGuidedConfig(config) : parseGuidedConfig(config, 'guided config');
    const name = typeof config === 'string' ? config : `${parsed.method}`;
    return new AlignkitLanguageModel(
      `guided:${name}`,
      lazily(async () => {
        const { loadGuidedModel } = await import('../serve/guided-model.ts');
        return serveModel(name, loadGuidedModel(name, parsed, (await poolOf()).load));
      }),
      defaults,
    );
  };

  const noSuchModel = (modelType: 'embeddingModel' | 'imageModel') => (modelId: string) => {
    throw new NoSuchModelError({ modelId, modelType, message: `alignkit has only language models, not ${modelType}s` });
  };

  return Object.assign((model: string | LanguageModel) => languageModel(model), {
    specificationVersion: 'v4' as const,
    languageModel,
    guided,
    embeddingModel: noSuchModel('embeddingModel'),
    imageModel: noSuchModel('imageModel'),
    close: async () => pool?.dispose(),
  });
}

/** The default provider (no settings): `alignkit(path)`, `alignkit.guided(config)`. */
export const alignkit: AlignkitProvider = createAlignkit();

export type { GuidedModelConfig, PromptFormatName };
export { AlignkitLanguageModel };
