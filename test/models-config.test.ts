import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { AlignkitError } from '../src/errors.ts';
import {
  checkWeightShapes,
  configToHf,
  parseHfConfig,
  readHfConfig,
  SUPPORTED_ARCHITECTURES,
  type ModelConfig,
} from '../src/models/config.ts';
import { expectedWeightShapes } from '../src/models/weight-shapes.ts';

// config.json files as published on the hub (trimmed of keys alignkit ignores)
const llama2 = {
  architectures: ['LlamaForCausalLM'],
  bos_token_id: 1,
  eos_token_id: 2,
  hidden_act: 'silu',
  hidden_size: 4096,
  initializer_range: 0.02,
  intermediate_size: 11008,
  max_position_embeddings: 4096,
  model_type: 'llama',
  num_attention_heads: 32,
  num_hidden_layers: 32,
  num_key_value_heads: 32,
  pretraining_tp: 1,
  rms_norm_eps: 1e-5,
  rope_scaling: null,
  tie_word_embeddings: false,
  torch_dtype: 'float16',
  use_cache: true,
  vocab_size: 32000,
};
const qwen2 = {
  architectures: ['Qwen2ForCausalLM'],
  attention_dropout: 0.0,
  bos_token_id: 151643,
  eos_token_id: 151645,
  hidden_act: 'silu',
  hidden_size: 896,
  initializer_range: 0.02,
  intermediate_size: 4864,
  max_position_embeddings: 32768,
  max_window_layers: 24,
  model_type: 'qwen2',
  num_attention_heads: 14,
  num_hidden_layers: 24,
  num_key_value_heads: 2,
  rms_norm_eps: 1e-6,
  rope_theta: 1000000.0,
  sliding_window: 32768,
  tie_word_embeddings: true,
  torch_dtype: 'bfloat16',
  use_cache: true,
  use_sliding_window: false,
  vocab_size: 151936,
};
const mistral = {
  architectures: ['MistralForCausalLM'],
  bos_token_id: 1,
  eos_token_id: 2,
  hidden_act: 'silu',
  hidden_size: 4096,
  initializer_range: 0.02,
  intermediate_size: 14336,
  max_position_embeddings: 32768,
  model_type: 'mistral',
  num_attention_heads: 32,
  num_hidden_layers: 32,
  num_key_value_heads: 8,
  rms_norm_eps: 1e-5,
  rope_theta: 10000.0,
  sliding_window: 4096,
  tie_word_embeddings: false,
  torch_dtype: 'bfloat16',
  use_cache: true,
  vocab_size: 32000,
};
const gpt2 = {
  activation_function: 'gelu_new',
  architectures: ['GPT2LMHeadModel'],
  attn_pdrop: 0.1,
  bos_token_id: 50256,
  embd_pdrop: 0.1,
  eos_token_id: 50256,
  initializer_range: 0.02,
  layer_norm_epsilon: 1e-5,
  model_type: 'gpt2',
  n_ctx: 1024,
  n_embd: 768,
  n_head: 12,
  n_layer: 12,
  n_positions: 1024,
  resid_pdrop: 0.1,
  vocab_size: 50257,
};

const root = mkdtempSync(join(tmpdir(), 'alignkit-config-'));
after(() => rmSync(root, { recursive: true, force: true }));

function assertConfigError(fn: () => unknown, field: string | null, pattern: RegExp, file = 'config.json'): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof AlignkitError, `expected AlignkitError, got ${e}`);
    assert.ok(e.message.startsWith(file), `message does not start with ${file}: ${e.message}`);
    if (field) assert.ok(e.message.includes(`field "${field}"`), `message does not name field ${field}: ${e.message}`);
    assert.match(e.message, pattern);
    return true;
  });
}

test('Llama-2 config', () => {
  assert.deepEqual(parseHfConfig(llama2), {
    family: 'llama',
    architecture: 'LlamaForCausalLM',
    vocabSize: 32000,
    hiddenSize: 4096,
    numLayers: 32,
    numHeads: 32,
    numKvHeads: 32,
    headDim: 128,
    intermediateSize: 11008,
    maxPositions: 4096,
    normEps: 1e-5,
    ropeTheta: 10000,
    attentionBias: false,
    tieWordEmbeddings: false,
    slidingWindow: null,
    bosTokenId: 1,
    eosTokenId: 2,
    torchDtype: 'float16',
  } satisfies ModelConfig);
});

test('Qwen2 config: llama family with q/k/v biases, GQA, tied embeddings, no sliding window', () => {
  const cfg = parseHfConfig(qwen2);
  assert.equal(cfg.family, 'llama');
  assert.equal(cfg.attentionBias, true);
  assert.equal(cfg.numKvHeads, 2);
  assert.equal(cfg.headDim, 64);
  assert.equal(cfg.ropeTheta, 1e6);
  assert.equal(cfg.tieWordEmbeddings, true);
  assert.equal(cfg.slidingWindow, null);
  assert.equal(cfg.normEps, 1e-6);
  assert.equal(parseHfConfig({ ...qwen2, use_sliding_window: true, sliding_window: 4096 }).slidingWindow, 4096);
});

test('Mistral config records the sliding window', () => {
  const cfg = parseHfConfig(mistral);
  assert.equal(cfg.architecture, 'MistralForCausalLM');
  assert.equal(cfg.slidingWindow, 4096);
  assert.equal(cfg.numKvHeads, 8);
  assert.equal(cfg.attentionBias, false);
  assert.equal(parseHfConfig({ ...mistral, sliding_window: null }).slidingWindow, null);
});

test('GPT-2 config', () => {
  assert.deepEqual(parseHfConfig(gpt2), {
    family: 'gpt2',
    architecture: 'GPT2LMHeadModel',
    vocabSize: 50257,
    hiddenSize: 768,
    numLayers: 12,
    numHeads: 12,
    numKvHeads: 12,
    headDim: 64,
    intermediateSize: 3072,
    maxPositions: 1024,
    normEps: 1e-5,
    ropeTheta: 10000,
    attentionBias: true,
    tieWordEmbeddings: true,
    slidingWindow: null,
    bosTokenId: 50256,
    eosTokenId: 50256,
    torchDtype: 'float32',
  } satisfies ModelConfig);
});

test('defaults, explicit head_dim, eos lists, architecture from model_type', () => {
  const minimal = {
    model_type: 'llama',
    vocab_size: 100,
    hidden_size: 64,
    num_hidden_layers: 2,
    num_attention_heads: 4,
    intermediate_size: 128,
    max_position_embeddings: 256,
  };
  const cfg = parseHfConfig(minimal);
  assert.equal(cfg.architecture, 'LlamaForCausalLM');
  assert.equal(cfg.numKvHeads, 4);
  assert.equal(cfg.ropeTheta, 10000);
  assert.equal(cfg.bosTokenId, null);
  assert.equal(cfg.torchDtype, 'float32');
  assert.equal(parseHfConfig({ ...minimal, head_dim: 32 }).headDim, 32);
  assert.deepEqual(parseHfConfig({ ...minimal, eos_token_id: [128001, 128009] }).eosTokenId, [128001, 128009]);
  assert.equal(parseHfConfig({ ...minimal, dtype: 'bfloat16' }).torchDtype, 'bfloat16');
  assert.equal(
    parseHfConfig({ ...minimal, rope_parameters: { rope_type: 'default', rope_theta: 500000 } }).ropeTheta,
    500000,
  );
});

test('configToHf round-trips every supported architecture', () => {
  for (const raw of [
    llama2,
    qwen2,
    mistral,
    gpt2,
    { ...llama2, attention_bias: true, eos_token_id: [2, 3] },
    { ...qwen2, use_sliding_window: true },
  ]) {
    const cfg = parseHfConfig(raw);
    const written = configToHf(cfg);
    assert.deepEqual(parseHfConfig(JSON.parse(JSON.stringify(written))), cfg);
    assert.deepEqual(written.architectures, [cfg.architecture]);
  }
  assert.equal(configToHf(parseHfConfig(gpt2)).n_embd, 768);
  assert.equal(configToHf(parseHfConfig(qwen2)).use_sliding_window, false);
});

test('configToHf refuses what the architecture cannot express', () => {
  const q = parseHfConfig(qwen2);
  assert.throws(
    () => configToHf({ ...q, attentionBias: false }),
    /Qwen2ForCausalLM config.json cannot express attention without q\/k\/v biases/,
  );
  assert.throws(() => configToHf({ ...parseHfConfig(gpt2), numKvHeads: 4 }), /grouped-query attention/);
  assert.throws(
    () => configToHf({ ...q, architecture: 'FalconForCausalLM' }),
    /unsupported architecture "FalconForCausalLM"/,
  );
});

test('bad configs name config.json and the field', () => {
  assertConfigError(
    () => parseHfConfig({ ...llama2, architectures: ['FalconForCausalLM'] }),
    'architectures',
    new RegExp(`unsupported architecture "FalconForCausalLM" \\(supported: ${SUPPORTED_ARCHITECTURES.join(', ')}\\)`),
  );
  assertConfigError(() => parseHfConfig({ vocab_size: 3 }), 'architectures', /missing, and no model_type/);
  assertConfigError(() => parseHfConfig({ model_type: 'bert' }), 'model_type', /unsupported model type "bert"/);
  assertConfigError(
    () => parseHfConfig({ ...llama2, hidden_size: 4090 }),
    'hidden_size',
    /4090 is not divisible by num_attention_heads \(32\)/,
  );
  assertConfigError(
    () => parseHfConfig({ ...mistral, num_key_value_heads: 5 }),
    'num_key_value_heads',
    /5 does not divide num_attention_heads \(32\)/,
  );
  const { intermediate_size: _, ...noIntermediate } = llama2;
  assertConfigError(
    () => parseHfConfig(noIntermediate),
    'intermediate_size',
    /missing \(expected a positive integer\)/,
  );
  assertConfigError(
    () => parseHfConfig({ ...llama2, num_hidden_layers: '32' }),
    'num_hidden_layers',
    /expected a positive integer, got "32"/,
  );
  assertConfigError(() => parseHfConfig({ ...llama2, rms_norm_eps: -1 }), 'rms_norm_eps', /expected a positive number/);
  assertConfigError(
    () => parseHfConfig({ ...llama2, rope_scaling: { rope_type: 'dynamic', factor: 2 } }),
    'rope_scaling',
    /RoPE type "dynamic" is not supported: its frequencies change with the sequence length/,
  );
  assertConfigError(
    () => parseHfConfig({ ...llama2, rope_scaling: { rope_type: 'llama3', factor: 8 } }),
    'rope_scaling.low_freq_factor',
    /missing \(expected a positive number\)/,
  );
  assertConfigError(
    () => parseHfConfig({ ...llama2, hidden_act: 'gelu' }),
    'hidden_act',
    /unsupported activation "gelu"/,
  );
  assertConfigError(() => parseHfConfig({ ...gpt2, n_embd: 770 }), 'n_embd', /770 is not divisible by n_head \(12\)/);
  assertConfigError(
    () => parseHfConfig({ ...gpt2, activation_function: 'relu' }),
    'activation_function',
    /unsupported activation "relu"/,
  );
  assertConfigError(() => parseHfConfig({ ...llama2, eos_token_id: 'x' }), 'eos_token_id', /expected a token id/);
  assertConfigError(() => parseHfConfig([1, 2]), null, /expected a JSON object/);
  assertConfigError(
    () => parseHfConfig({ ...llama2, hidden_size: 0 }, 'models/x/config.json'),
    'hidden_size',
    /positive integer/,
    'models/x/config.json',
  );
});

test('readHfConfig names the file for malformed JSON and missing files', () => {
  const path = join(root, 'config.json');
  writeFileSync(path, '{"architectures": [');
  assertConfigError(() => readHfConfig(path), null, /malformed JSON/, path);
  assertConfigError(() => readHfConfig(join(root, 'nope.json')), null, /file not found/, join(root, 'nope.json'));
  writeFileSync(path, JSON.stringify({ ...gpt2, n_layer: 0 }));
  assertConfigError(() => readHfConfig(path), 'n_layer', /positive integer/, path);
});

const small = (raw: Record<string, unknown>) =>
  parseHfConfig({
    ...raw,
    hidden_size: 16,
    intermediate_size: 24,
    num_hidden_layers: 2,
    num_attention_heads: 4,
    vocab_size: 10,
  });

test('expectedWeightShapes lists the HF tensors of each family', () => {
  const q = expectedWeightShapes(small({ ...qwen2, num_key_value_heads: 2 }));
  assert.deepEqual(q.get('model.embed_tokens.weight'), [10, 16]);
  assert.deepEqual(q.get('model.layers.1.self_attn.q_proj.weight'), [16, 16]);
  assert.deepEqual(q.get('model.layers.1.self_attn.k_proj.weight'), [8, 16]);
  assert.deepEqual(q.get('model.layers.1.self_attn.k_proj.bias'), [8]);
  assert.equal(q.has('model.layers.1.self_attn.o_proj.bias'), false, 'Qwen2 has no o_proj bias');
  assert.deepEqual(q.get('model.layers.0.mlp.down_proj.weight'), [16, 24]);
  assert.equal(q.has('lm_head.weight'), false, 'tied');
  assert.equal(q.size, 1 + 2 * 12 + 1);
  const l = expectedWeightShapes(small({ ...llama2, num_key_value_heads: 4, attention_bias: true }));
  assert.deepEqual(l.get('model.layers.0.self_attn.o_proj.bias'), [16], 'Llama attention_bias covers o_proj');
  assert.deepEqual(l.get('lm_head.weight'), [10, 16]);
  const g = expectedWeightShapes(
    parseHfConfig({ ...gpt2, n_embd: 8, n_head: 2, n_layer: 1, vocab_size: 10, n_positions: 6 }),
  );
  assert.deepEqual(g.get('transformer.h.0.attn.c_attn.weight'), [8, 24]);
  assert.deepEqual(g.get('transformer.h.0.mlp.c_fc.weight'), [8, 32]);
  assert.deepEqual(g.get('transformer.h.0.mlp.c_proj.weight'), [32, 8]);
  assert.deepEqual(g.get('transformer.wpe.weight'), [6, 8]);
  assert.equal(g.size, 2 + 12 + 2);
});

test('checkWeightShapes: accepts a matching checkpoint, names the tensor and both shapes otherwise', () => {
  const cfg = small({ ...mistral, num_key_value_heads: 2 });
  const shapes = expectedWeightShapes(cfg);
  checkWeightShapes(cfg, shapes, 'model.safetensors');
  checkWeightShapes(
    cfg,
    new Map([...shapes, ['model.layers.0.self_attn.rotary_emb.inv_freq', [2]]]),
    'model.safetensors',
  );

  const wrong = new Map(shapes).set('model.layers.1.self_attn.k_proj.weight', [16, 16]);
  assertConfigError(
    () => checkWeightShapes(cfg, wrong, 'model.safetensors'),
    null,
    /tensor "model.layers.1.self_attn.k_proj.weight" has shape \[16, 16\], expected \[8, 16\] \(config: MistralForCausalLM.*2 kv heads of 4/,
    'model.safetensors',
  );
  const missing = new Map(shapes);
  missing.delete('lm_head.weight');
  assertConfigError(
    () => checkWeightShapes(cfg, missing, 'x/model.safetensors'),
    null,
    /tensor "lm_head.weight" is missing \(expected shape \[10, 16\]/,
    'x/model.safetensors',
  );
  const extra = new Map(shapes).set('model.layers.2.mlp.up_proj.weight', [24, 16]);
  assertConfigError(
    () => checkWeightShapes(cfg, extra, 'model.safetensors'),
    null,
    /unexpected tensor "model.layers.2.mlp.up_proj.weight"/,
    'model.safetensors',
  );
  const qwen = small({ ...qwen2, num_key_value_heads: 2 });
  const noBias = new Map(expectedWeightShapes(qwen));
  noBias.delete('model.layers.0.self_attn.q_proj.bias');
  assertConfigError(
    () => checkWeightShapes(qwen, noBias, 'model.safetensors'),
    null,
    /"model.layers.0.self_attn.q_proj.bias" is missing/,
    'model.safetensors',
  );
});

test('checkWeightShapes accepts GPT-2 names with or without the transformer. prefix', () => {
  const cfg = parseHfConfig({ ...gpt2, n_embd: 8, n_head: 2, n_layer: 2, vocab_size: 10, n_positions: 6 });
  const prefixed = expectedWeightShapes(cfg);
  const bare = expectedWeightShapes(cfg, '');
  assert.ok(bare.has('h.1.attn.c_attn.weight'));
  checkWeightShapes(cfg, prefixed, 'model.safetensors');
  checkWeightShapes(
    cfg,
    new Map([...bare, ['h.0.attn.bias', [1, 1, 6, 6]], ['h.0.attn.masked_bias', []]]),
    'model.safetensors',
  );
  const conv1dTransposed = new Map(bare).set('h.0.attn.c_attn.weight', [24, 8]);
  assertConfigError(
    () => checkWeightShapes(cfg, conv1dTransposed, 'model.safetensors'),
    null,
    /"h.0.attn.c_attn.weight" has shape \[24, 8\], expected \[8, 24\]/,
    'model.safetensors',
  );
});
