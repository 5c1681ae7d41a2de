/**
 * What one architecture family tells the rest of alignkit: how to read and write its
 * config.json, which tensors it has, how its body is built, how each layer attends, its LoRA
 * targets, its reward-model class and its initialization. Everything outside
 * `models/architectures/` asks the registry instead of testing family names.
 */
import type { Value } from '../../engine/graph.ts';
import type { Ops } from '../../engine/ops.ts';
import type { ModelConfig } from '../config.ts';
import type { ParameterSource } from '../parameters.ts';
import type { RopeSpec } from '../rope.ts';
import type { ConfigFields } from './config-fields.ts';

export interface BodyInputs {
  /** int64 [B, T] */
  ids: Value;
  /** int64 [B, T], absolute positions of the new tokens */
  positions: Value;
  /** float [B, 1, T, C+T] additive causal bias for full-attention layers (C = cache columns, 0 without a cache); absent when no layer attends fully */
  bias?: Value;
  /** the same with the model's sliding window applied, for windowed layers (absent when no layer is) */
  windowBias?: Value;
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

/**
 * How one layer attends, spelled out so that any attention kernel can be given it: which keys a
 * query sees, the logit scale and soft-cap, and the rotary embedding.
 */
export interface LayerAttention {
  /** a query at position p sees keys p − window + 1 … p; null = every earlier position */
  window: number | null;
  /** multiplies q·k (1/√head_dim unless the family says otherwise) */
  scale: number;
  /** logits become softcap·tanh(logits/softcap) before the mask (Gemma 2); null = none */
  softcap: number | null;
  /** null for families with learned positions (GPT-2) */
  rope: RopeSpec | null;
}

/** The LM head: which matrix [vocab, hidden] it multiplies, and the soft-cap of its logits (Gemma 2). */
export interface LmHead {
  weight: string;
  softcap: number | null;
}

/**
 * How a fresh tensor is filled, as HF initializes the family: 'normal' (matrices), 'ones' or
 * 'zeros' (norm weights: 0 where the norm scales by 1 + w; norm biases), 'bias' (other biases:
 * zeros, or normal when tests ask for random biases to exercise them).
 */
export type InitRule = 'normal' | 'zeros' | 'ones' | 'bias';

export interface ArchitectureSpec {
  /** the HF class of the causal LM, e.g. 'Qwen3ForCausalLM' (the registry key) */
  architecture: string;
  /** config.json `model_type` */
  modelType: string;
  /** `ModelConfig.family`: the group of architectures that share a body */
  family: string;
  /** the reward / value model class with a scalar head `score.weight` [1, D] */
  sequenceClassifier: string;
  /** config.json object → ModelConfig; errors name the file and the field */
  parseConfig(f: ConfigFields): ModelConfig;
  /** ModelConfig → config.json object; refuses what this architecture's config cannot express */
  toHfConfig(cfg: ModelConfig): Record<string, unknown>;
  /**
   * Every tensor the model has, HF name → shape (nn.Linear [out, in]). `storedNames` are the
   * names a checkpoint holds, for families whose writers differ in naming (GPT-2 with or
   * without `transformer.`); without them, the canonical names alignkit keeps in memory.
   */
  weightShapes(cfg: ModelConfig, storedNames?: Iterable<string>): Map<string, number[]>;
  /** each layer's attention */
  attention(cfg: ModelConfig): LayerAttention[];
  /** the decoder stack (everything but the LM head); `layers` is `attention(cfg)` with windows past the context dropped */
  buildBody(
    o: Ops,
    cfg: ModelConfig,
    p: ParameterSource,
    io: BodyInputs,
    options: BodyOptions,
    layers: readonly LayerAttention[],
  ): BodyOutputs;
  lmHead(cfg: ModelConfig, p: ParameterSource): LmHead;
  /** default LoRA target modules (PEFT's defaults for the family) */
  loraTargets: readonly string[];
  /** weights stored [in, out] (GPT-2's Conv1D) rather than nn.Linear's [out, in] */
  isConv1d(name: string): boolean;
  initRule(name: string): InitRule;
  /** extra words for error messages about weight shapes (e.g. 'attention biases') */
  describe?(cfg: ModelConfig): string[];
}
