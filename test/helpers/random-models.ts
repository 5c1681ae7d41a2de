/**
 * Small random-weight models in HF layout, written as HF directories, for tests.
 * Deterministic: the same options and seed give the same bytes.
 */
import { parseHfConfig, type ModelConfig } from '../../src/models/config.ts';
import {
  bfloat16ToFloat32,
  float16ToFloat32,
  float32ToBfloat16,
  float32ToFloat16,
} from '../../src/util/half-precision.ts';
import { writeHfDirectory } from '../../src/models/hf-directory.ts';
import type { SaveDtype } from '../../src/models/safetensors.ts';
import type { Weights } from '../../src/models/weights.ts';
import { randomInitWeights } from '../../src/models/random-init.ts';

export interface RandomModelOptions {
  vocabSize?: number;
  hiddenSize?: number;
  numLayers?: number;
  numHeads?: number;
  intermediateSize?: number;
  maxPositions?: number;
  tieWordEmbeddings?: boolean;
  seed?: number;
  /** std of the normal init of matrices and biases (default 0.05); norms are 1, norm biases 0 */
  std?: number;
  /** on-disk dtype (default F32) */
  dtype?: SaveDtype;
  shardBytes?: number;
}

export interface RandomLlamaOptions extends RandomModelOptions {
  family?: 'llama' | 'qwen2' | 'mistral';
  numKvHeads?: number;
  headDim?: number;
  ropeTheta?: number;
  /** LlamaForCausalLM only (Qwen2 always has q/k/v biases, Mistral never) */
  attentionBias?: boolean;
  slidingWindow?: number | null;
}

export interface RandomModel {
  config: ModelConfig;
  weights: Weights;
}

const ARCHITECTURE = { llama: 'LlamaForCausalLM', qwen2: 'Qwen2ForCausalLM', mistral: 'MistralForCausalLM' } as const;

export function randomLlamaConfig(o: RandomLlamaOptions = {}): ModelConfig {
  const family = o.family ?? 'llama';
  const hiddenSize = o.hiddenSize ?? 32;
  const numHeads = o.numHeads ?? 4;
  return {
    family: 'llama',
    architecture: ARCHITECTURE[family],
    vocabSize: o.vocabSize ?? 64,
    hiddenSize,
    numLayers: o.numLayers ?? 2,
    numHeads,
    numKvHeads: o.numKvHeads ?? Math.max(1, numHeads / 2),
    headDim: o.headDim ?? hiddenSize / numHeads,
    intermediateSize: o.intermediateSize ?? 48,
    maxPositions: o.maxPositions ?? 64,
    normEps: 1e-5,
    ropeTheta: o.ropeTheta ?? 10000,
    attentionBias: family === 'qwen2' ? true : family === 'mistral' ? false : (o.attentionBias ?? false),
    tieWordEmbeddings: o.tieWordEmbeddings ?? false,
    slidingWindow: family === 'llama' ? null : (o.slidingWindow ?? null),
    bosTokenId: 1,
    eosTokenId: 2,
    torchDtype: 'float32',
  };
}

export function randomGpt2Config(o: RandomModelOptions = {}): ModelConfig {
  const hiddenSize = o.hiddenSize ?? 32;
  const numHeads = o.numHeads ?? 4;
  const vocabSize = o.vocabSize ?? 64;
  return {
    family: 'gpt2',
    architecture: 'GPT2LMHeadModel',
    vocabSize,
    hiddenSize,
    numLayers: o.numLayers ?? 2,
    numHeads,
    numKvHeads: numHeads,
    headDim: hiddenSize / numHeads,
    intermediateSize: o.intermediateSize ?? 4 * hiddenSize,
    maxPositions: o.maxPositions ?? 64,
    normEps: 1e-5,
    ropeTheta: 10000,
    attentionBias: true,
    tieWordEmbeddings: o.tieWordEmbeddings ?? true,
    slidingWindow: null,
    bosTokenId: vocabSize - 1,
    eosTokenId: vocabSize - 1,
    torchDtype: 'float32',
  };
}

/** Every tensor `cfg` needs: norms 1, norm biases 0, the rest (biases included) normal(0, std). */
export const randomWeights = (cfg: ModelConfig, seed = 0, std = 0.05): Weights =>
  randomInitWeights(cfg, seed, std, { randomBiases: true });

/** Rounds float32 weights to what a file of `dtype` holds, so tests compare with what a loader sees. */
function roundTo(weights: Weights, dtype: SaveDtype | undefined): void {
  if (!dtype || dtype === 'F32') return;
  for (const tensor of weights.values()) {
    if (dtype === 'F16') float16ToFloat32(float32ToFloat16(tensor.data), tensor.data);
    else bfloat16ToFloat32(float32ToBfloat16(tensor.data), tensor.data);
  }
}

function writeRandom(dir: string, config: ModelConfig, o: RandomModelOptions): RandomModel {
  const weights = randomWeights(config, o.seed ?? 0, o.std ?? 0.05);
  roundTo(weights, o.dtype);
  writeHfDirectory(dir, config, weights, { dtype: o.dtype, shardBytes: o.shardBytes });
  return { config, weights };
}

/** Writes a random llama / qwen2 / mistral model to `dir`; returns its config and (float32, as loaded) weights. */
export function writeRandomLlama(dir: string, o: RandomLlamaOptions = {}): RandomModel {
  return writeRandom(dir, randomLlamaConfig(o), o);
}

/** Writes a random GPT-2 model to `dir` (names with the `transformer.` prefix, Conv1D [in, out] weights). */
export function writeRandomGpt2(dir: string, o: RandomModelOptions = {}): RandomModel {
  return writeRandom(dir, randomGpt2Config(o), o);
}

/** The config.json fields every tiny test model of a family shares (each test adds its family's own). */
export const TINY_CONFIG_JSON = {
  vocab_size: 64,
  hidden_size: 32,
  intermediate_size: 48,
  num_hidden_layers: 2,
  num_attention_heads: 4,
  num_key_value_heads: 2,
  max_position_embeddings: 64,
  rms_norm_eps: 1e-6,
  bos_token_id: 1,
  eos_token_id: 2,
  torch_dtype: 'float32',
};

/** A tiny Qwen3 (per-head q/k norms, explicit head size 16). */
export const tinyQwen3Config = (): ModelConfig =>
  parseHfConfig({
    ...TINY_CONFIG_JSON,
    architectures: ['Qwen3ForCausalLM'],
    model_type: 'qwen3',
    head_dim: 16,
    rope_theta: 1000,
    attention_bias: false,
    tie_word_embeddings: false,
  });
