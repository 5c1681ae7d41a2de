/**
 * config.json fields and tensors shared by the RoPE decoder families, so that each family's
 * file states only what is its own.
 */
import { inputError } from '../../errors.ts';
import type { LayerType, ModelConfig } from '../config.ts';
import type { RopeScaling, RopeSpec } from '../rope.ts';
import type { ConfigFields } from './config-fields.ts';
import type { InitRule, LayerAttention } from './spec.ts';

export interface DecoderDefaults {
  family: string;
  architecture: string;
  /** config.json field naming the MLP activation, and the value(s) this family's body computes */
  activation: { field: string; allowed: readonly string[] };
  normEps?: number;
  tieWordEmbeddings?: boolean;
}

/** The fields every RoPE decoder has (ModelConfig without the optional family fields). */
export function parseDecoderConfig(f: ConfigFields, d: DecoderDefaults): ModelConfig {
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
  const act = f.string(d.activation.field, d.activation.allowed[0]);
  if (!d.activation.allowed.includes(act))
    throw f.error(
      d.activation.field,
      `unsupported activation ${JSON.stringify(act)} (${d.architecture} uses ${d.activation.allowed.map((a) => JSON.stringify(a)).join(' or ')})`,
    );
  const partial = f.get('partial_rotary_factor');
  if (partial !== undefined && partial !== null && partial !== 1)
    throw f.error(
      'partial_rotary_factor',
      `rotary embeddings on part of each head (${JSON.stringify(partial)}) are not supported`,
    );

  return {
    family: d.family,
    architecture: d.architecture,
    vocabSize: f.positiveInt('vocab_size'),
    hiddenSize,
    numLayers: f.positiveInt('num_hidden_layers'),
    numHeads,
    numKvHeads,
    headDim,
    intermediateSize: f.positiveInt('intermediate_size'),
    maxPositions: f.positiveInt('max_position_embeddings'),
    normEps: f.positiveNumber('rms_norm_eps', d.normEps ?? 1e-6),
    ropeTheta: ropeTheta(f),
    attentionBias: false,
    tieWordEmbeddings: f.boolean('tie_word_embeddings', d.tieWordEmbeddings ?? false),
    slidingWindow: null,
    bosTokenId: f.tokenId('bos_token_id'),
    eosTokenId: f.tokenIds('eos_token_id'),
    torchDtype: f.has('torch_dtype') ? f.string('torch_dtype', 'float32') : f.string('dtype', 'float32'),
  };
}

/** rope_theta, or transformers 5's rope_parameters.rope_theta */
function ropeTheta(f: ConfigFields): number {
  const parameters = f.get('rope_parameters') as { rope_theta?: unknown } | undefined | null;
  if (f.has('rope_theta') || !parameters?.rope_theta) return f.positiveNumber('rope_theta', 10000);
  return f.object('rope_parameters').positiveNumber('rope_theta');
}

/** The config.json fields of parseDecoderConfig. */
export function decoderConfigToHf(cfg: ModelConfig, modelType: string, activationField: string, activation: string) {
  return {
    architectures: [cfg.architecture],
    model_type: modelType,
    vocab_size: cfg.vocabSize,
    hidden_size: cfg.hiddenSize,
    intermediate_size: cfg.intermediateSize,
    num_hidden_layers: cfg.numLayers,
    num_attention_heads: cfg.numHeads,
    num_key_value_heads: cfg.numKvHeads,
    head_dim: cfg.headDim,
    max_position_embeddings: cfg.maxPositions,
    rms_norm_eps: cfg.normEps,
    rope_theta: cfg.ropeTheta,
    rope_scaling: cfg.ropeScaling ? ropeScalingToHf(cfg.ropeScaling) : null,
    [activationField]: activation,
    attention_dropout: 0,
    tie_word_embeddings: cfg.tieWordEmbeddings,
    bos_token_id: cfg.bosTokenId,
    eos_token_id: cfg.eosTokenId,
    torch_dtype: cfg.torchDtype,
    use_cache: true,
  } as Record<string, unknown>;
}

/** An error for a ModelConfig value this architecture's config.json has no field for. */
export const cannotExpress = (cfg: ModelConfig, field: string, why: string) =>
  inputError(`${cfg.architecture} config.json cannot express ${why}`, { field });

const IMPLEMENTED_ROPE = ['default', 'linear', 'llama3', 'yarn'];

/**
 * `rope_scaling` (or transformers 5's `rope_parameters`): absent for plain RoPE. Types whose
 * frequencies depend on the running sequence length are refused by name: `dynamic` (NTK) and
 * `longrope` (Phi-3.5, Phi-3-128k) switch frequencies once a sequence passes the original
 * context, which a KV cache built with the old ones cannot follow.
 */
export function parseRopeScaling(f: ConfigFields): RopeScaling | undefined {
  const field = f.has('rope_scaling') ? 'rope_scaling' : f.has('rope_parameters') ? 'rope_parameters' : null;
  if (!field) return undefined;
  const s = f.object(field);
  const type = s.get('rope_type') ?? s.get('type') ?? 'default';
  if (type === 'default') return undefined;
  switch (type) {
    case 'linear':
      return { type: 'linear', factor: s.positiveNumber('factor') };
    case 'llama3':
      return {
        type: 'llama3',
        factor: s.positiveNumber('factor'),
        lowFreqFactor: s.positiveNumber('low_freq_factor'),
        highFreqFactor: s.positiveNumber('high_freq_factor'),
        originalMaxPositions: s.positiveInt('original_max_position_embeddings'),
      };
    case 'yarn':
      return {
        type: 'yarn',
        factor: s.positiveNumber('factor'),
        originalMaxPositions: s.positiveInt(
          'original_max_position_embeddings',
          f.positiveInt('max_position_embeddings'),
        ),
        betaFast: s.positiveNumber('beta_fast', 32),
        betaSlow: s.positiveNumber('beta_slow', 1),
        attentionFactor: s.optionalPositiveNumber('attention_factor'),
        mscale: s.optionalPositiveNumber('mscale'),
        mscaleAllDim: s.optionalPositiveNumber('mscale_all_dim'),
        truncate: s.boolean('truncate', true),
      };
    default: {
      const why =
        type === 'dynamic' || type === 'longrope'
          ? ': its frequencies change with the sequence length, which a KV cache cannot follow'
          : '';
      throw f.error(
        field,
        `RoPE type ${JSON.stringify(type)} is not supported${why} (implemented: ${IMPLEMENTED_ROPE.join(', ')})`,
      );
    }
  }
}

export function ropeScalingToHf(s: RopeScaling): Record<string, unknown> {
  switch (s.type) {
    case 'linear':
      return { rope_type: 'linear', factor: s.factor };
    case 'llama3':
      return {
        rope_type: 'llama3',
        factor: s.factor,
        low_freq_factor: s.lowFreqFactor,
        high_freq_factor: s.highFreqFactor,
        original_max_position_embeddings: s.originalMaxPositions,
      };
    case 'yarn': {
      const optional = { attention_factor: s.attentionFactor, mscale: s.mscale, mscale_all_dim: s.mscaleAllDim };
      return {
        rope_type: 'yarn',
        factor: s.factor,
        original_max_position_embeddings: s.originalMaxPositions,
        beta_fast: s.betaFast,
        beta_slow: s.betaSlow,
        truncate: s.truncate,
        ...Object.fromEntries(Object.entries(optional).filter(([, v]) => v !== null)),
      };
    }
  }
}

/** ropeScaling only when set, so that plain-RoPE configs have no such key. */
export const withRopeScaling = (cfg: ModelConfig, scaling: RopeScaling | undefined): ModelConfig =>
  scaling ? { ...cfg, ropeScaling: scaling } : cfg;

/** `layer_types` when given, else the family's pattern; every entry checked. */
export function parseLayerTypes(
  f: ConfigFields,
  numLayers: number,
  pattern: (layer: number) => LayerType,
): LayerType[] {
  if (!f.has('layer_types')) return Array.from({ length: numLayers }, (_, l) => pattern(l));
  const value = f.get('layer_types');
  const valid = (t: unknown) => t === 'full_attention' || t === 'sliding_attention';
  if (!Array.isArray(value) || value.length !== numLayers || !value.every(valid))
    throw f.error(
      'layer_types',
      `expected ${numLayers} entries (num_hidden_layers), each "full_attention" or "sliding_attention", got ${JSON.stringify(value)}`,
    );
  return value as LayerType[];
}

/**
 * Each layer of a model whose attention differs only in the window: plain 1/√hd scaling, one
 * RoPE. Windowed layers are those `layerTypes` marks (all of them when it is absent).
 */
export function uniformAttention(
  cfg: ModelConfig,
  logits: { scale?: number; softcap?: number } = {},
): LayerAttention[] {
  const rope: RopeSpec = { theta: cfg.ropeTheta, scaling: cfg.ropeScaling ?? null };
  return Array.from({ length: cfg.numLayers }, (_, l) => ({
    window:
      cfg.slidingWindow !== null && (cfg.layerTypes?.[l] ?? 'sliding_attention') === 'sliding_attention'
        ? cfg.slidingWindow
        : null,
    scale: logits.scale ?? 1 / Math.sqrt(cfg.headDim),
    softcap: logits.softcap ?? null,
    rope,
  }));
}

/** The tensors of a decoder layer stack: embeddings, final norm, untied LM head, and `perLayer` for each layer. */
export function decoderWeightShapes(
  cfg: ModelConfig,
  perLayer: (add: (name: string, shape: number[]) => void) => void,
): Map<string, number[]> {
  const shapes = new Map<string, number[]>();
  shapes.set('model.embed_tokens.weight', [cfg.vocabSize, cfg.hiddenSize]);
  for (let l = 0; l < cfg.numLayers; l++) perLayer((name, shape) => shapes.set(`model.layers.${l}.${name}`, shape));
  shapes.set('model.norm.weight', [cfg.hiddenSize]);
  if (!cfg.tieWordEmbeddings) shapes.set('lm_head.weight', [cfg.vocabSize, cfg.hiddenSize]);
  return shapes;
}

/** HF's init of decoder weights: norm weights 1, biases 0, the rest normal. */
export function decoderInitRule(name: string): InitRule {
  if (/norm\.weight$/.test(name)) return 'ones';
  return /\.bias$/.test(name) ? 'bias' : 'normal';
}

export const untiedHead = (cfg: ModelConfig, has: (name: string) => boolean) =>
  cfg.tieWordEmbeddings || !has('lm_head.weight') ? 'model.embed_tokens.weight' : 'lm_head.weight';
