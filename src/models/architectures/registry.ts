/**
 * Every architecture alignkit runs, by HF class name. Adding a family is one file in this
 * folder and one line here.
 */
import { inputError } from '../../errors.ts';
import type { ModelConfig } from '../config.ts';
import { gemma2 } from './gemma2.ts';
import { gemma3 } from './gemma3.ts';
import { gpt2 } from './gpt2.ts';
import { llama, mistral, qwen2 } from './llama.ts';
import { phi3 } from './phi3.ts';
import { qwen3 } from './qwen3.ts';
import type { ArchitectureSpec, LayerAttention } from './spec.ts';

const SPECS: readonly ArchitectureSpec[] = [llama, qwen2, mistral, gpt2, qwen3, gemma2, gemma3, phi3];

export const SUPPORTED_ARCHITECTURES: string[] = SPECS.map((s) => s.architecture);

export function specForArchitecture(name: unknown): ArchitectureSpec | undefined {
  return SPECS.find((s) => s.architecture === name);
}

export function specForModelType(modelType: unknown): ArchitectureSpec | undefined {
  return SPECS.find((s) => s.modelType === modelType);
}

/** The causal-LM spec whose reward-model class is `name` (e.g. 'Qwen2ForSequenceClassification'). */
export function specForSequenceClassifier(name: unknown): ArchitectureSpec | undefined {
  return SPECS.find((s) => s.sequenceClassifier === name);
}

export const SEQUENCE_CLASSIFIERS: string[] = SPECS.map((s) => s.sequenceClassifier);

/** The spec of a config's architecture (configs are validated when read, so a miss is a bad hand-built config). */
export function specOf(cfg: Pick<ModelConfig, 'architecture'>): ArchitectureSpec {
  const spec = specForArchitecture(cfg.architecture);
  if (!spec)
    throw inputError(
      `unsupported architecture ${JSON.stringify(cfg.architecture)} (supported: ${SUPPORTED_ARCHITECTURES.join(', ')})`,
      { field: 'architecture' },
    );
  return spec;
}

/** Each layer's attention, with windows that reach past the context dropped (they mask nothing). */
export function layerAttention(cfg: ModelConfig): LayerAttention[] {
  return specOf(cfg)
    .attention(cfg)
    .map((layer) => (layer.window !== null && layer.window >= cfg.maxPositions ? { ...layer, window: null } : layer));
}

/** Which attention biases a step needs: one for full-attention layers, one for the window (at most one size per model). */
export function attentionWindows(cfg: ModelConfig): { full: boolean; window: number | null } {
  const layers = layerAttention(cfg);
  const windows = new Set(layers.map((l) => l.window).filter((w) => w !== null));
  if (windows.size > 1)
    throw inputError(`layers with different sliding windows (${[...windows].join(', ')}) are not supported`, {
      field: 'slidingWindow',
    });
  return { full: layers.some((l) => l.window === null), window: windows.size ? [...windows][0] : null };
}
