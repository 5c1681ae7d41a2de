/**
 * alignkit as a library: load models, steer them, train, evaluate, probe and serve them — the
 * functions the CLI's commands run, with the commands' flags as typed options (checked the way
 * the CLI checks its flags, failing with an `AlignkitError` that names the option). Subpaths
 * hold the same by area: `alignkit/steer`, `alignkit/train`, `alignkit/eval`, `alignkit/probe`,
 * `alignkit/serve`, and the Vercel AI SDK provider `alignkit/ai-sdk`. Whatever is not exported
 * here is internal and may change.
 */
export { loadModel, EMBEDDED_MODELS, type LoadModelOptions } from './api/models.ts';
export type {
  Capabilities,
  DecodeState,
  FinishReason,
  HiddenRequest,
  LanguageModel,
  LogprobMatrix,
  OpenOptions,
  Prompt,
  Sample,
  SampleRequest,
  ScoreItem,
  TokenLogprobs,
  Usage,
} from './lm/language-model.ts';
export type { ChatMessage, Tokenizer } from './tokenizers/tokenizer.ts';
export { AlignkitError, ContextLengthError, type ErrorKind, type ErrorWhere } from './errors.ts';
export * from './api/steer.ts';
export * from './api/train.ts';
export * from './api/eval.ts';
export * from './api/probe.ts';
export * from './api/serve.ts';
export type { RunCallbacks } from './api/check-options.ts';
