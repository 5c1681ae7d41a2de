/**
 * Turns a model reference into a LanguageModel: a local checkpoint runs in-process on the engine
 * (load-local.ts); `BASE_URL#MODEL_NAME` talks to an OpenAI-compatible server.
 */
import type { LanguageModel } from './language-model.ts';
import { parseModelRef } from './model-ref.ts';
import { loadNativeModel } from './load-local.ts';

export { loadNativeModel, loadRandomInitTwin, readLocalCheckpoint, type LocalCheckpoint } from './load-local.ts';

export interface LoadOptions {
  /** tokenizer path (HF directory / tokenizer.json / llama2.c .bin); default: beside the model */
  tokenizer?: string;
  /** env var holding the API key of a remote server (default OPENAI_API_KEY) */
  apiKeyEnv?: string;
  /** on-disk response cache for remote models */
  cacheDir?: string;
  concurrency?: number;
  timeoutMs?: number;
}

export async function loadModel(ref: string, options: LoadOptions = {}): Promise<LanguageModel> {
  const parsed = parseModelRef(ref);
  if (parsed.kind === 'openai') {
    const { createOpenAIModel } = await import('./openai/openai-model.ts');
    return createOpenAIModel(ref, options);
  }
  return loadNativeModel(parsed.path, options.tokenizer);
}
