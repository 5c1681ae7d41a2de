/**
 * What a web page needs of alignkit, from its browser-safe layers: load a native model from
 * mounted files, run the steering methods on it, score responses with the gold reward. Bundled by
 * bundle.ts, which swaps in the browser sides of the I/O and runtime boundaries; the playground
 * page is built on this, and a page of one's own can be too.
 */
export { loadNativeModel, readLocalCheckpoint } from '../lm/load-local.ts';
export type { NativeModel } from '../lm/native/native-model.ts';
export { STEP_RUNTIMES, type StepRuntime } from '../lm/native/runtime.ts';
export {
  STEER_METHODS,
  runSteerMethod,
  steerMethodNamed,
  type SteerModels,
  type SteerSettings,
} from '../decode/steer-methods/index.ts';
export type { SteerResult } from '../decode/steer-result.ts';
export { sentimentReward } from '../decode/rewards.ts';
export { hasScalarHead } from '../decode/scalar-head.ts';
export { valueModelFromHead } from '../decode/value-model.ts';
export { abortStepsOn, mountFile, unmount, existsSync, readdirSync, statSync } from '../util/io-browser.ts';
export { configureWebRuntime, webRuntime, type WebProvider } from '../engine/session-web.ts';
export { checkTokenizerMatchesModel } from '../tokenizers/load-tokenizer.ts';
export { parseHfConfig } from '../models/config.ts';
export { AlignkitError } from '../errors.ts';
