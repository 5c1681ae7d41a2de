import type { Value } from '../engine/graph.ts';
import type { Ops } from '../engine/ops.ts';
import type { ModelConfig } from './config.ts';
import type { ParameterSource } from './parameters.ts';
import { buildLlamaBody } from './llama-body.ts';
import { buildGpt2Body } from './gpt2-body.ts';

export interface BodyInputs {
  /** int64 [B, T] */
  ids: Value;
  /** int64 [B, T], absolute positions of the new tokens */
  positions: Value;
  /** float [B, 1, T, C+T] additive attention bias (C = cache columns, 0 without a cache) */
  bias: Value;
  /**
   * Per layer cached keys/values [B, Hkv, C, hd], columns in any order (the bias masks the
   * unused ones). A body with a cache runs onnxruntime's fused Attention and RotaryEmbedding
   * kernels (opset 23); they have no gradient rules, so training graphs have no cache.
   */
  past?: { k: Value; v: Value }[];
}

export interface BodyOutputs {
  /** final-normed hidden states [B, T, D] (what the LM head reads) */
  hidden: Value;
  /** with a cache: per layer keys (after RoPE) and values of the new tokens [B, T, Hkv·hd] */
  newKv: { k: Value; v: Value }[];
  /** residual stream after block l-1 (layer 0 = embeddings), for requested layers */
  layerHidden: Map<number, Value>;
}

export interface BodyOptions {
  hiddenLayers?: readonly number[];
}

/** The decoder stack of any supported architecture (everything but the LM head). */
export function buildBody(
  o: Ops,
  cfg: ModelConfig,
  p: ParameterSource,
  io: BodyInputs,
  options: BodyOptions = {},
): BodyOutputs {
  return cfg.family === 'gpt2' ? buildGpt2Body(o, cfg, p, io, options) : buildLlamaBody(o, cfg, p, io, options);
}

/** Name of the LM head matrix [vocab, hidden] (tied models reuse the embedding). */
export function lmHeadName(cfg: ModelConfig, p: ParameterSource): string {
  if (cfg.family === 'gpt2') return p.has('transformer.wte.weight') ? 'transformer.wte.weight' : 'wte.weight';
  return cfg.tieWordEmbeddings || !p.has('lm_head.weight') ? 'model.embed_tokens.weight' : 'lm_head.weight';
}
