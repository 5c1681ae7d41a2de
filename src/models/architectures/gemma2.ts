/**
 * Gemma 2: RMSNorm scaling by (1 + w), embeddings multiplied by √hidden, GeGLU with
 * tanh-approximate GELU, four norms per layer (before and after attention and the MLP),
 * attention logits scaled by 1/√query_pre_attn_scalar and soft-capped, LM-head logits
 * soft-capped, sliding-window and global layers alternating (even layers windowed).
 */
import type { LayerType, ModelConfig } from '../config.ts';
import type { ConfigFields } from './config-fields.ts';
import {
  cannotExpress,
  decoderConfigToHf,
  decoderWeightShapes,
  parseDecoderConfig,
  parseLayerTypes,
  parseRopeScaling,
  uniformAttention,
  untiedHead,
  withRopeScaling,
} from './decoder-config.ts';
import { buildDecoderBody, gatedMlp, outProjection, separateQkv, type DecoderLayout } from './decoder.ts';
import { llamaLayerShapes, withWindowedLayers } from './llama.ts';
import type { ArchitectureSpec, InitRule, LayerAttention } from './spec.ts';

export const gemmaLayout = (cfg: ModelConfig): DecoderLayout => ({
  projectQkv: separateQkv,
  projectOut: outProjection,
  mlp: gatedMlp('gelu_tanh'),
  norms: {
    preAttention: 'input_layernorm.weight',
    postAttention: 'post_attention_layernorm.weight',
    preMlp: 'pre_feedforward_layernorm.weight',
    postMlp: 'post_feedforward_layernorm.weight',
  },
  normPlusOne: true,
  embeddingScale: Math.sqrt(cfg.hiddenSize),
});

/** The fields Gemma 2 and 3 share; soft-caps absent from config.json take the family's defaults. */
export function parseGemmaConfig(
  f: ConfigFields,
  family: string,
  architecture: string,
  defaults: { softcaps: { attention: number | null; final: number | null }; pattern: (layer: number) => LayerType },
): ModelConfig {
  if (!f.has('head_dim'))
    throw f.error('head_dim', 'missing (expected a positive integer; Gemma heads are not hidden_size / heads)');
  if (f.boolean('attention_bias', false)) throw f.error('attention_bias', 'attention biases are not supported');
  const cfg = parseDecoderConfig(f, {
    family,
    architecture,
    activation: { field: 'hidden_activation', allowed: ['gelu_pytorch_tanh'] },
    tieWordEmbeddings: true,
  });
  const out: ModelConfig = { ...cfg, queryPreAttnScalar: f.positiveNumber('query_pre_attn_scalar', 256) };
  const softcap = (field: string, fallback: number | null) =>
    f.get(field) === undefined ? fallback : f.optionalPositiveNumber(field);
  const attention = softcap('attn_logit_softcapping', defaults.softcaps.attention);
  const final = softcap('final_logit_softcapping', defaults.softcaps.final);
  if (attention !== null) out.attnLogitSoftcap = attention;
  if (final !== null) out.finalLogitSoftcap = final;
  const scaled = withRopeScaling(out, parseRopeScaling(f));
  if (f.get('sliding_window') === null) return scaled;
  const types = parseLayerTypes(f, cfg.numLayers, defaults.pattern);
  return withWindowedLayers(scaled, f.positiveInt('sliding_window', 4096), types);
}

export function gemmaConfigToHf(cfg: ModelConfig, modelType: string): Record<string, unknown> {
  if (cfg.attentionBias) throw cannotExpress(cfg, 'attentionBias', 'attention biases');
  return {
    ...decoderConfigToHf(cfg, modelType, 'hidden_activation', 'gelu_pytorch_tanh'),
    query_pre_attn_scalar: cfg.queryPreAttnScalar ?? 256,
    attn_logit_softcapping: cfg.attnLogitSoftcap ?? null,
    final_logit_softcapping: cfg.finalLogitSoftcap ?? null,
    sliding_window: cfg.slidingWindow,
    layer_types:
      cfg.layerTypes ??
      Array<LayerType>(cfg.numLayers).fill(cfg.slidingWindow === null ? 'full_attention' : 'sliding_attention'),
  };
}

/** Gemma's attention logits: 1/√query_pre_attn_scalar, soft-capped where the config says. */
export const gemmaLogits = (cfg: ModelConfig) => ({
  scale: 1 / Math.sqrt(cfg.queryPreAttnScalar ?? 256),
  softcap: cfg.attnLogitSoftcap,
});

/** The four norms and the llama projections of one Gemma layer. */
export const gemmaLayerShapes = (cfg: ModelConfig) => (add: (name: string, shape: number[]) => void) => {
  llamaLayerShapes(cfg, { qkv: false, out: false })(add);
  add('pre_feedforward_layernorm.weight', [cfg.hiddenSize]);
  add('post_feedforward_layernorm.weight', [cfg.hiddenSize]);
};

/** (1 + w) norms start at w = 0, as HF initializes them. */
export const gemmaInitRule = (name: string): InitRule => (/norm\.weight$/.test(name) ? 'zeros' : 'normal');

export const gemma2: ArchitectureSpec = {
  architecture: 'Gemma2ForCausalLM',
  modelType: 'gemma2',
  family: 'gemma2',
  sequenceClassifier: 'Gemma2ForSequenceClassification',
  parseConfig: (f) =>
    parseGemmaConfig(f, 'gemma2', 'Gemma2ForCausalLM', {
      softcaps: { attention: 50, final: 30 },
      pattern: (l) => (l % 2 === 0 ? 'sliding_attention' : 'full_attention'),
    }),
  toHfConfig: (cfg) => gemmaConfigToHf(cfg, 'gemma2'),
  weightShapes: (cfg) => decoderWeightShapes(cfg, gemmaLayerShapes(cfg)),
  attention: (cfg): LayerAttention[] => uniformAttention(cfg, gemmaLogits(cfg)),
  buildBody: (o, cfg, p, io, options, layers) => buildDecoderBody(o, cfg, p, io, options, gemmaLayout(cfg), layers),
  lmHead: (cfg, p) => ({ weight: untiedHead(cfg, (n) => p.has(n)), softcap: cfg.finalLogitSoftcap ?? null }),
  loraTargets: ['q_proj', 'v_proj'],
  isConv1d: () => false,
  initRule: gemmaInitRule,
};
