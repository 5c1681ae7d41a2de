/**
 * Whether a model fits in a browser tab, decided before its weights are read: a tab's WebAssembly
 * memory is at most 4 GiB (wasm32), and onnxruntime-web holds the float32 weights there while the
 * page briefly holds them twice more (the loaded weights and the ONNX bytes handed over). A model
 * past the budget gets a message naming its file instead of a tab that stalls and crashes.
 */
import { expectedWeightShapes, parseHfConfig, type ModelConfig } from '../../models/config.ts';
import { GgufFile } from '../../models/gguf/gguf-file.ts';

/** float32 weight bytes a page can load: well under the 4 GiB WebAssembly limit, leaving room for activations */
export const WEIGHT_BUDGET_BYTES = 1.5 * 2 ** 30;

const gb = (bytes: number) => `${(bytes / 1e9).toFixed(1)} GB`;

/** A weights file larger than the budget cannot fit, whatever its precision (float32 is never smaller on disk). */
export function fileSizeProblem(path: string, bytes: number): string | null {
  if (!/\.(safetensors|gguf|bin)$/i.test(path) || bytes <= WEIGHT_BUDGET_BYTES) return null;
  return `${path}: ${gb(bytes)} of weights is more than a browser tab can hold (about ${gb(WEIGHT_BUDGET_BYTES)} of float32 weights in its 4 GB of WebAssembly memory); pick a smaller model`;
}

/** The model a config.json describes, checked against the budget (an unsupported architecture is named here too). */
export function configProblem(path: string, text: string): string | null {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    return `${path}: not JSON (${(e as Error).message}); expected an HF model config`;
  }
  const parameters = parameterCount(parseHfConfig(raw, path));
  if (parameters * 4 <= WEIGHT_BUDGET_BYTES) return null;
  return `${path}: the model has ${(parameters / 1e6).toFixed(0)} M parameters, ${gb(parameters * 4)} as float32, more than a browser tab can hold (about ${gb(WEIGHT_BUDGET_BYTES)} in its 4 GB of WebAssembly memory); pick a smaller model`;
}

/** Weights the config's architecture has (the checkpoint must hold exactly these). */
export function parameterCount(config: ModelConfig): number {
  let parameters = 0;
  for (const shape of expectedWeightShapes(config).values()) parameters += shape.reduce((a, b) => a * b, 1);
  return parameters;
}

/** A GGUF file's tensors widened to float32 (how the engine runs them), checked against the budget from its header. */
export function ggufProblem(path: string): string | null {
  const file = GgufFile.open(path);
  let parameters = 0;
  try {
    for (const t of file.tensors.values()) parameters += t.shape.reduce((a, b) => a * b, 1);
  } finally {
    file.close();
  }
  if (parameters * 4 <= WEIGHT_BUDGET_BYTES) return null;
  return `${path}: the model has ${(parameters / 1e6).toFixed(0)} M parameters, ${gb(parameters * 4)} as float32, more than a browser tab can hold (about ${gb(WEIGHT_BUDGET_BYTES)} in its 4 GB of WebAssembly memory); pick a smaller model`;
}
