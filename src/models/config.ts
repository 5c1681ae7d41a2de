/**
 * HF config.json <-> ModelConfig, the normalized description every model builder reads.
 * Qwen2 and Mistral are llama-family variants; GPT-2 is its own family.
 */
import { existsSync, readFileSync } from 'node:fs';
import { formatError, inputError } from '../errors.ts';

export type ModelFamily = 'llama' | 'gpt2';

export interface ModelConfig {
  family: ModelFamily;
  /** e.g. 'LlamaForCausalLM', 'Qwen2ForCausalLM', 'MistralForCausalLM', 'GPT2LMHeadModel' */
  architecture: string;
  vocabSize: number;
  hiddenSize: number;
  numLayers: number;
  numHeads: number;
  numKvHeads: number;
  headDim: number;
  intermediateSize: number;
  maxPositions: number;
  /** rms_norm_eps (llama family) or layer_norm_epsilon (gpt2) */
  normEps: number;
  /** llama family; 10000 where the config has none (and for gpt2, which has no RoPE) */
  ropeTheta: number;
  /** q/k/v biases: Qwen2 always; Llama when config.attention_bias (then o_proj has one too); GPT-2 always */
  attentionBias: boolean;
  tieWordEmbeddings: boolean;
  /** Mistral's sliding-window attention span (or Qwen2's when use_sliding_window); null = full attention */
  slidingWindow: number | null;
  bosTokenId: number | null;
  eosTokenId: number | number[] | null;
  torchDtype: string;
}

const ARCHITECTURES = {
  LlamaForCausalLM: { family: 'llama', modelType: 'llama' },
  Qwen2ForCausalLM: { family: 'llama', modelType: 'qwen2' },
  MistralForCausalLM: { family: 'llama', modelType: 'mistral' },
  GPT2LMHeadModel: { family: 'gpt2', modelType: 'gpt2' },
} as const satisfies Record<string, { family: ModelFamily; modelType: string }>;

export type Architecture = keyof typeof ARCHITECTURES;
export const SUPPORTED_ARCHITECTURES = Object.keys(ARCHITECTURES) as Architecture[];

const isArchitecture = (name: unknown): name is Architecture =>
  typeof name === 'string' && Object.hasOwn(ARCHITECTURES, name);

/** Typed access to config.json fields; every error names the file and the field. */
class ConfigFields {
  constructor(
    private readonly raw: Record<string, unknown>,
    readonly file: string,
  ) {}

  error(field: string, message: string) {
    return formatError(message, { file: this.file, field });
  }

  has(field: string): boolean {
    return this.raw[field] !== undefined && this.raw[field] !== null;
  }

  get(field: string): unknown {
    return this.raw[field];
  }

  positiveInt(field: string, fallback?: number): number {
    const value = this.raw[field] ?? fallback;
    if (value === undefined) throw this.error(field, 'missing (expected a positive integer)');
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0) {
      throw this.error(field, `expected a positive integer, got ${JSON.stringify(value)}`);
    }
    return value;
  }

  positiveNumber(field: string, fallback: number): number {
    const value = this.raw[field] ?? fallback;
    if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
      throw this.error(field, `expected a positive number, got ${JSON.stringify(value)}`);
    }
    return value;
  }

  boolean(field: string, fallback: boolean): boolean {
    const value = this.raw[field] ?? fallback;
    if (typeof value !== 'boolean') throw this.error(field, `expected true or false, got ${JSON.stringify(value)}`);
    return value;
  }

  string(field: string, fallback: string): string {
    const value = this.raw[field] ?? fallback;
    if (typeof value !== 'string') throw this.error(field, `expected a string, got ${JSON.stringify(value)}`);
    return value;
  }

  tokenId(field: string): number | null {
    const value = this.raw[field] ?? null;
    if (value !== null && !isTokenId(value))
      throw this.error(field, `expected a token id or null, got ${JSON.stringify(value)}`);
    return value;
  }

  tokenIds(field: string): number | number[] | null {
    const value = this.raw[field] ?? null;
    if (value === null || isTokenId(value)) return value;
    if (Array.isArray(value) && value.every(isTokenId)) return [...value];
    throw this.error(field, `expected a token id, a list of token ids, or null, got ${JSON.stringify(value)}`);
  }
}

const isTokenId = (x: unknown): x is number => typeof x === 'number' && Number.isSafeInteger(x) && x >= 0;

/** Parses the JSON object of an HF config.json. `file` names it in errors. */
export function parseHfConfig(raw: unknown, file = 'config.json'): ModelConfig {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw formatError('expected a JSON object', { file });
  }
  const f = new ConfigFields(raw as Record<string, unknown>, file);
  const architecture = resolveArchitecture(f);
  return ARCHITECTURES[architecture].family === 'gpt2' ? parseGpt2(f, architecture) : parseLlamaFamily(f, architecture);
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

function resolveArchitecture(f: ConfigFields): Architecture {
  const supported = `supported: ${SUPPORTED_ARCHITECTURES.join(', ')}`;
  const listed = f.get('architectures');
  if (listed !== undefined && listed !== null) {
    if (!Array.isArray(listed) || listed.length === 0)
      throw f.error('architectures', `expected a list of architecture names, got ${JSON.stringify(listed)}`);
    const found = listed.find(isArchitecture);
    if (!found) throw f.error('architectures', `unsupported architecture ${JSON.stringify(listed[0])} (${supported})`);
    return found;
  }
  const modelType = f.get('model_type');
  const byType = SUPPORTED_ARCHITECTURES.find((a) => ARCHITECTURES[a].modelType === modelType);
  if (byType) return byType;
  if (modelType === undefined)
    throw f.error('architectures', `missing, and no model_type to infer it from (${supported})`);
  throw f.error('model_type', `unsupported model type ${JSON.stringify(modelType)} (${supported})`);
}

function parseLlamaFamily(f: ConfigFields, architecture: Architecture): ModelConfig {
  const hiddenSize = f.positiveInt('hidden_size');
  const numHeads = f.positiveInt('num_attention_heads');
  const numKvHeads = f.positiveInt('num_key_value_heads', numHeads);
  if (numHeads % numKvHeads !== 0) {
    throw f.error('num_key_value_heads', `${numKvHeads} does not divide num_attention_heads (${numHeads})`);
  }
  let headDim: number;
  if (f.has('head_dim')) {
    headDim = f.positiveInt('head_dim');
  } else {
    if (hiddenSize % numHeads !== 0)
      throw f.error('hidden_size', `${hiddenSize} is not divisible by num_attention_heads (${numHeads})`);
    headDim = hiddenSize / numHeads;
  }
  if (headDim % 2 !== 0)
    throw f.error(
      f.has('head_dim') ? 'head_dim' : 'hidden_size',
      `the head size (${headDim}) must be even for rotary embeddings`,
    );

  const act = f.string('hidden_act', 'silu');
  if (act !== 'silu')
    throw f.error('hidden_act', `unsupported activation ${JSON.stringify(act)} (the llama family uses "silu")`);
  checkRopeIsPlain(f);
  if (f.boolean('mlp_bias', false)) throw f.error('mlp_bias', 'MLP biases are not supported');

  const modelType = ARCHITECTURES[architecture].modelType;
  const attentionBias =
    modelType === 'qwen2' ? true : modelType === 'llama' ? f.boolean('attention_bias', false) : false;
  let slidingWindow: number | null = null;
  if (modelType === 'mistral' && f.get('sliding_window') !== null)
    slidingWindow = f.positiveInt('sliding_window', 4096);
  if (modelType === 'qwen2' && f.boolean('use_sliding_window', false)) slidingWindow = f.positiveInt('sliding_window');

  const ropeParameters = f.get('rope_parameters') as { rope_theta?: unknown } | undefined;
  const ropeTheta =
    f.has('rope_theta') || !ropeParameters?.rope_theta
      ? f.positiveNumber('rope_theta', 10000)
      : new ConfigFields(ropeParameters as Record<string, unknown>, f.file).positiveNumber('rope_theta', 10000);

  return {
    family: 'llama',
    architecture,
    vocabSize: f.positiveInt('vocab_size'),
    hiddenSize,
    numLayers: f.positiveInt('num_hidden_layers'),
    numHeads,
    numKvHeads,
    headDim,
    intermediateSize: f.positiveInt('intermediate_size'),
    maxPositions: f.positiveInt('max_position_embeddings'),
    normEps: f.positiveNumber('rms_norm_eps', 1e-6),
    ropeTheta,
    attentionBias,
    tieWordEmbeddings: f.boolean('tie_word_embeddings', false),
    slidingWindow,
    bosTokenId: f.tokenId('bos_token_id'),
    eosTokenId: f.tokenIds('eos_token_id'),
    torchDtype: torchDtype(f),
  };
}

/** Scaled RoPE variants (llama3, yarn, linear, dynamic) change the math; refuse them rather than compute wrong logits. */
function checkRopeIsPlain(f: ConfigFields): void {
  for (const field of ['rope_scaling', 'rope_parameters']) {
    const value = f.get(field);
    if (value === undefined || value === null) continue;
    const type =
      (value as { rope_type?: unknown; type?: unknown }).rope_type ?? (value as { type?: unknown }).type ?? 'default';
    if (type !== 'default')
      throw f.error(field, `RoPE type ${JSON.stringify(type)} is not supported (only plain RoPE)`);
  }
}

function torchDtype(f: ConfigFields): string {
  return f.has('torch_dtype') ? f.string('torch_dtype', 'float32') : f.string('dtype', 'float32');
}

function parseGpt2(f: ConfigFields, architecture: Architecture): ModelConfig {
  const hiddenSize = f.positiveInt('n_embd');
  const numHeads = f.positiveInt('n_head');
  if (hiddenSize % numHeads !== 0) throw f.error('n_embd', `${hiddenSize} is not divisible by n_head (${numHeads})`);
  const act = f.string('activation_function', 'gelu_new');
  if (act !== 'gelu_new' && act !== 'gelu_pytorch_tanh') {
    throw f.error('activation_function', `unsupported activation ${JSON.stringify(act)} (expected "gelu_new")`);
  }
  if (f.boolean('scale_attn_by_inverse_layer_idx', false))
    throw f.error('scale_attn_by_inverse_layer_idx', 'not supported');
  if (!f.boolean('scale_attn_weights', true))
    throw f.error('scale_attn_weights', 'unscaled attention is not supported');
  return {
    family: 'gpt2',
    architecture,
    vocabSize: f.positiveInt('vocab_size'),
    hiddenSize,
    numLayers: f.positiveInt('n_layer'),
    numHeads,
    numKvHeads: numHeads,
    headDim: hiddenSize / numHeads,
    intermediateSize: f.has('n_inner') ? f.positiveInt('n_inner') : 4 * hiddenSize,
    maxPositions: f.positiveInt('n_positions', f.has('n_ctx') ? f.positiveInt('n_ctx') : undefined),
    normEps: f.positiveNumber('layer_norm_epsilon', 1e-5),
    ropeTheta: 10000,
    attentionBias: true,
    tieWordEmbeddings: f.boolean('tie_word_embeddings', true),
    slidingWindow: null,
    bosTokenId: f.tokenId('bos_token_id'),
    eosTokenId: f.tokenIds('eos_token_id'),
    torchDtype: torchDtype(f),
  };
}

/** The config.json for `cfg`; parseHfConfig(configToHf(cfg)) gives `cfg` back. */
export function configToHf(cfg: ModelConfig): Record<string, unknown> {
  if (!isArchitecture(cfg.architecture)) {
    throw inputError(
      `unsupported architecture ${JSON.stringify(cfg.architecture)} (supported: ${SUPPORTED_ARCHITECTURES.join(', ')})`,
      { field: 'architecture' },
    );
  }
  const { family, modelType } = ARCHITECTURES[cfg.architecture];
  if (family !== cfg.family)
    throw inputError(`${cfg.architecture} is in the ${family} family, not ${cfg.family}`, { field: 'family' });
  const cannot = (field: string, why: string) =>
    inputError(`${cfg.architecture} config.json cannot express ${why}`, { field });
  const common = {
    architectures: [cfg.architecture],
    model_type: modelType,
    vocab_size: cfg.vocabSize,
    tie_word_embeddings: cfg.tieWordEmbeddings,
    bos_token_id: cfg.bosTokenId,
    eos_token_id: cfg.eosTokenId,
    torch_dtype: cfg.torchDtype,
  };
  if (family === 'gpt2') {
    if (cfg.numKvHeads !== cfg.numHeads) throw cannot('numKvHeads', 'grouped-query attention');
    if (cfg.headDim * cfg.numHeads !== cfg.hiddenSize)
      throw cannot('headDim', 'a head size other than n_embd / n_head');
    if (!cfg.attentionBias) throw cannot('attentionBias', 'attention without biases');
    if (cfg.slidingWindow !== null) throw cannot('slidingWindow', 'sliding-window attention');
    return {
      ...common,
      n_embd: cfg.hiddenSize,
      n_layer: cfg.numLayers,
      n_head: cfg.numHeads,
      n_inner: cfg.intermediateSize,
      n_positions: cfg.maxPositions,
      n_ctx: cfg.maxPositions,
      layer_norm_epsilon: cfg.normEps,
      activation_function: 'gelu_new',
      scale_attn_weights: true,
      use_cache: true,
    };
  }
  const llama: Record<string, unknown> = {
    ...common,
    hidden_size: cfg.hiddenSize,
    intermediate_size: cfg.intermediateSize,
    num_hidden_layers: cfg.numLayers,
    num_attention_heads: cfg.numHeads,
    num_key_value_heads: cfg.numKvHeads,
    head_dim: cfg.headDim,
    max_position_embeddings: cfg.maxPositions,
    rms_norm_eps: cfg.normEps,
    rope_theta: cfg.ropeTheta,
    rope_scaling: null,
    hidden_act: 'silu',
    attention_dropout: 0,
    use_cache: true,
  };
  if (modelType === 'llama') {
    if (cfg.slidingWindow !== null) throw cannot('slidingWindow', 'sliding-window attention');
    return { ...llama, attention_bias: cfg.attentionBias, mlp_bias: false };
  }
  if (modelType === 'mistral') {
    if (cfg.attentionBias) throw cannot('attentionBias', 'attention biases');
    return { ...llama, sliding_window: cfg.slidingWindow };
  }
  if (!cfg.attentionBias) throw cannot('attentionBias', 'attention without q/k/v biases');
  return {
    ...llama,
    use_sliding_window: cfg.slidingWindow !== null,
    sliding_window: cfg.slidingWindow ?? cfg.maxPositions,
    max_window_layers: cfg.numLayers,
  };
}

export { expectedWeightShapes, checkWeightShapes } from './weight-shapes.ts';
