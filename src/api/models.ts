/**
 * Loading models as a library: `loadModel` for a local checkpoint (HF directory, GGUF file,
 * llama2.c .bin) or a served one (`BASE_URL#MODEL`), and the paths of the two small models that
 * ship with the package (trained by alignkit's own recipe, `npm run embedded:train`).
 */
import { fileURLToPath } from 'node:url';
import { inputError } from '../errors.ts';
import type { LanguageModel } from '../lm/language-model.ts';

/** How `loadModel` finds and talks to a model. */
export interface LoadModelOptions {
  /** tokenizer of a local checkpoint that has none beside it (HF directory, tokenizer.json or llama2.c .bin) */
  tokenizer?: string;
  /** environment variable holding the API key of a remote server (default OPENAI_API_KEY) */
  apiKeyEnv?: string;
  /** on-disk response cache of a remote model */
  cacheDir?: string;
  /** requests a remote model runs at once */
  concurrency?: number;
  /** time limit of one remote request, in milliseconds */
  timeoutMs?: number;
}

const LOAD_OPTION_TYPES: Record<keyof LoadModelOptions, 'string' | 'number'> = {
  tokenizer: 'string',
  apiKeyEnv: 'string',
  cacheDir: 'string',
  concurrency: 'number',
  timeoutMs: 'number',
};

/**
 * A model by reference: a local path runs in-process on onnxruntime (full logits, exact scoring,
 * KV-cached decoding, hidden states); `BASE_URL#MODEL` talks to an OpenAI-compatible server
 * (vLLM, SGLang, llama.cpp, OpenAI). Dispose of it with `model.dispose()`.
 */
export async function loadModel(ref: string, options: LoadModelOptions = {}): Promise<LanguageModel> {
  if (typeof ref !== 'string' || ref === '')
    throw inputError(
      `loadModel expects a model reference (a local path or BASE_URL#MODEL), got ${JSON.stringify(ref)}`,
    );
  for (const [key, value] of Object.entries(options)) {
    const type = LOAD_OPTION_TYPES[key as keyof LoadModelOptions];
    if (!type)
      throw inputError(
        `unknown option "${key}" (expected one of: ${Object.keys(LOAD_OPTION_TYPES)
          .map((k) => `"${k}"`)
          .join(', ')})`,
      );
    if (value !== undefined && typeof value !== type)
      throw inputError(
        `"${key}" expects ${type === 'string' ? 'a text value' : 'a number'}, got ${JSON.stringify(value)}`,
      );
  }
  const { loadModel: load } = await import('../lm/load.ts');
  return load(ref, options);
}

/**
 * The models that ship with alignkit, as HF directories: `small` (the pair a demo tunes) and
 * `large` (the one it steers), tiny llama-family models trained on the Brown corpus by alignkit
 * itself (embedded/MODEL_CARD.md).
 */
export const EMBEDDED_MODELS = {
  small: fileURLToPath(new URL('../../embedded/small', import.meta.url)),
  large: fileURLToPath(new URL('../../embedded/large', import.meta.url)),
} as const;
