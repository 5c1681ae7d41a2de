/**
 * HF config.json <-> ModelConfig, the normalized description every model builder reads. Each
 * architecture's fields are read and written by its specification in `architectures/`; this
 * file holds the shared shape and the entry points.
 */
import { existsSync, readFileSync } from '../util/io.ts';
import { formatError, inputError } from '../errors.ts';
import { ConfigFields } from './architectures/config-fields.ts';
import { SUPPORTED_ARCHITECTURES, specForArchitecture, specForModelType } from './architectures/registry.ts';
import type { RopeScaling } from './rope.ts';

export { SUPPORTED_ARCHITECTURES };

/** HF's names for the two kinds of layers of models that mix them (config.json `layer_types`). */
export type LayerType = 'full_attention' | 'sliding_attention';

export interface ModelConfig {
  /** the group of architectures sharing a body: 'llama' (Llama, Qwen2, Mistral), 'qwen3', 'gemma2', 'gemma3', 'phi3', 'gpt2' */
  family: string;
  /** the HF class, e.g. 'LlamaForCausalLM', 'Qwen3ForCausalLM', 'GPT2LMHeadModel' (the registry key) */
  architecture: string;
  vocabSize: number;
  hiddenSize: number;
  numLayers: number;
  numHeads: number;
  numKvHeads: number;
  headDim: number;
  intermediateSize: number;
  maxPositions: number;
  /** rms_norm_eps (RoPE families) or layer_norm_epsilon (gpt2) */
  normEps: number;
  /** RoPE base; 10000 where the config has none (and for gpt2, which has no RoPE) */
  ropeTheta: number;
  /** q/k/v biases: Qwen2 always; Llama when config.attention_bias (then o_proj has one too); GPT-2 always */
  attentionBias: boolean;
  tieWordEmbeddings: boolean;
  /** the sliding-window span of windowed layers (Mistral, Phi-3, Gemma, Qwen2 with use_sliding_window); null = none */
  slidingWindow: number | null;
  bosTokenId: number | null;
  eosTokenId: number | number[] | null;
  torchDtype: string;

  // Present only where a family uses them, so that configs of the others stay as they were.
  /** RoPE scaling (of the global layers, for Gemma 3); absent = plain RoPE */
  ropeScaling?: RopeScaling;
  /** which layers use `slidingWindow`; absent = all of them when it is set */
  layerTypes?: LayerType[];
  /** Gemma: logits scaled by 1/√query_pre_attn_scalar instead of 1/√head_dim */
  queryPreAttnScalar?: number;
  /** Gemma 2: attention logits soft-capped as c·tanh(x/c) */
  attnLogitSoftcap?: number;
  /** Gemma 2: LM-head logits soft-capped as c·tanh(x/c) */
  finalLogitSoftcap?: number;
  /** Gemma 3: RoPE base of the sliding-window layers (which are not scaled) */
  localRopeTheta?: number;
}

/** Parses the JSON object of an HF config.json. `file` names it in errors. */
export function parseHfConfig(raw: unknown, file = 'config.json'): ModelConfig {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw formatError('expected a JSON object', { file });
  }
  const f = new ConfigFields(raw as Record<string, unknown>, file);
  return resolveArchitecture(f).parseConfig(f);
}

export function readHfConfig(path: string): ModelConfig {
  if (!existsSync(path)) throw inputError('file not found', { file: path });
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw formatError(`malformed JSON (${(e as Error).message})`, { file: path });
  }
  return parseHfConfig(raw, path);
}

function resolveArchitecture(f: ConfigFields) {
  const supported = `supported: ${SUPPORTED_ARCHITECTURES.join(', ')}`;
  const listed = f.get('architectures');
  if (listed !== undefined && listed !== null) {
    if (!Array.isArray(listed) || listed.length === 0)
      throw f.error('architectures', `expected a list of architecture names, got ${JSON.stringify(listed)}`);
    const found = listed.map(specForArchitecture).find((s) => s !== undefined);
    if (!found) throw f.error('architectures', `unsupported architecture ${JSON.stringify(listed[0])} (${supported})`);
    return found;
  }
  const modelType = f.get('model_type');
  const byType = specForModelType(modelType);
  if (byType) return byType;
  if (modelType === undefined)
    throw f.error('architectures', `missing, and no model_type to infer it from (${supported})`);
  throw f.error('model_type', `unsupported model type ${JSON.stringify(modelType)} (${supported})`);
}

/** The config.json for `cfg`; parseHfConfig(configToHf(cfg)) gives `cfg` back. */
export function configToHf(cfg: ModelConfig): Record<string, unknown> {
  const spec = specForArchitecture(cfg.architecture);
  if (!spec) {
    throw inputError(
      `unsupported architecture ${JSON.stringify(cfg.architecture)} (supported: ${SUPPORTED_ARCHITECTURES.join(', ')})`,
      { field: 'architecture' },
    );
  }
  if (spec.family !== cfg.family)
    throw inputError(`${cfg.architecture} is in the ${spec.family} family, not ${cfg.family}`, { field: 'family' });
  return spec.toHfConfig(cfg);
}

export { expectedWeightShapes, checkWeightShapes } from './weight-shapes.ts';
