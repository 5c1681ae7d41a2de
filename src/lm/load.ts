/**
 * Turns a model reference into a LanguageModel: a local checkpoint runs in-process on the engine
 * (load-local.ts); `BASE_URL#MODEL_NAME` talks to an OpenAI-compatible server.
 */
import type { LanguageModel } from './language-model.ts';
import { parseModelRef } from './model-ref.ts';
import { loadNativeModel } from './load-local.ts';
import type { GraphFlavour } from '../engine/graph-flavour.ts';
import type { StepRuntime } from './native/runtime.ts';
import { inputError } from '../errors.ts';

export {
  loadNativeModel,
  loadRandomInitTwin,
  readLocalCheckpoint,
  readTrainableCheckpoint,
  quantizedMatmulFromEnv,
  type LocalCheckpoint,
  type ReadCheckpointOptions,
} from './load-local.ts';

export interface LoadOptions {
  /** tokenizer path (HF directory / tokenizer.json / llama2.c .bin); default: beside the model */
  tokenizer?: string;
  /** env var holding the API key of a remote server (default OPENAI_API_KEY) */
  apiKeyEnv?: string;
  /** on-disk response cache for remote models */
  cacheDir?: string;
  concurrency?: number;
  timeoutMs?: number;
  /** graph flavour of a native model (default standard) */
  graph?: GraphFlavour;
  /** what runs a native model's steps (default auto: the WebAssembly kernel for small llama-family models) */
  runtime?: StepRuntime;
  /** a LoRA adapter directory (PEFT layout) merged into a local model at load */
  adapter?: string;
}

export async function loadModel(ref: string, options: LoadOptions = {}): Promise<LanguageModel> {
  const parsed = parseModelRef(ref);
  if (parsed.kind === 'openai') {
    if (options.adapter)
      throw inputError(`a LoRA adapter applies to local models, not the served "${ref}"`, { field: 'adapter' });
    const { createOpenAIModel } = await import('./openai/openai-model.ts');
    return createOpenAIModel(ref, options);
  }
  return loadNativeModel(parsed.path, options.tokenizer, {
    graph: options.graph,
    runtime: options.runtime,
    adapter: options.adapter,
  });
}
