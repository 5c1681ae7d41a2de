/**
 * Faithfulness of every architecture family: a small random model whose config.json turns on
 * each of the family's distinctive features (published field names, scaled-down shapes) against
 * an independent float64 forward pass written from the published equations
 * (helpers/reference-decoder.ts, RoPE frequencies below): log-probs to 1e-5; KV-cached decode,
 * batched with ragged chunks, equal to one prefill; training-graph log-probs equal to inference
 * log-probs; save → load through an HF directory.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  checkWeightShapes,
  configToHf,
  expectedWeightShapes,
  parseHfConfig,
  type ModelConfig,
} from '../src/models/config.ts';
import { layerAttention } from '../src/models/architectures/registry.ts';
import { PUBLISHED_CONFIGS } from '../src/models/published-configs.ts';
import { readSafetensors } from '../src/models/safetensors.ts';
import { defaultLoraTargets, initAdapters } from '../src/train/lora.ts';
import { sftObjective } from '../src/train/sft-objective.ts';
import { isRewardModelDirectory, writeRewardModel } from '../src/train/model-directory.ts';
import { assertDirectional, directionalChecks, sftExamples } from './helpers/train-fixtures.ts';
import { assertNamedError } from './helpers/named-error.ts';
import { readHfDirectory, writeHfDirectory } from '../src/models/hf-directory.ts';
import { NativeModel } from '../src/lm/native/native-model.ts';
import { computeSequenceLogps } from '../src/train/reference-logps.ts';
import type { Weights } from '../src/models/weights.ts';
import { createRng } from '../src/util/random.ts';
import { randomWeights, TINY_CONFIG_JSON } from './helpers/random-models.ts';
import { logSoftmax64, ReferenceDecoder, type ReferenceFeatures } from './helpers/reference-decoder.ts';
import { idTokenizer } from './helpers/id-tokenizer.ts';

// ---- RoPE inverse frequencies as transformers' modeling_rope_utils.py defines them ----

const plainFrequencies = (theta: number, hd: number) =>
  Array.from({ length: hd / 2 }, (_, i) => 1 / Math.pow(theta, (2 * i) / hd));

function llama3Frequencies(theta: number, hd: number, s: Record<string, any>): number[] {
  const lowWavelen = s.original_max_position_embeddings / s.low_freq_factor;
  const highWavelen = s.original_max_position_embeddings / s.high_freq_factor;
  return plainFrequencies(theta, hd).map((f) => {
    const wavelen = (2 * Math.PI) / f;
    const scaled = wavelen > lowWavelen ? f / s.factor : f;
    const smooth =
      (s.original_max_position_embeddings / wavelen - s.low_freq_factor) / (s.high_freq_factor - s.low_freq_factor);
    const medium = !(wavelen < highWavelen) && !(wavelen > lowWavelen);
    return medium ? ((1 - smooth) * scaled) / s.factor + smooth * scaled : scaled;
  });
}

function yarn(theta: number, hd: number, s: Record<string, any>) {
  const dim = (rotations: number) =>
    (hd * Math.log(s.original_max_position_embeddings / (rotations * 2 * Math.PI))) / (2 * Math.log(theta));
  const low = Math.max(Math.floor(dim(32)), 0);
  const high = Math.min(Math.ceil(dim(1)), hd - 1);
  const inverseFrequencies = plainFrequencies(theta, hd).map((f, i) => {
    const extrapolation = 1 - Math.min(1, Math.max(0, (i - low) / (high - low)));
    return (f / s.factor) * (1 - extrapolation) + f * extrapolation;
  });
  return { inverseFrequencies, attentionFactor: 0.1 * Math.log(s.factor) + 1 };
}

const unscaled = (inverseFrequencies: number[]) => ({ inverseFrequencies, attentionFactor: 1 });

// ---- the families: config.json with every distinctive feature on, and what the published code reads from it ----

const base = TINY_CONFIG_JSON;

const features = (raw: Record<string, any>, over: Partial<ReferenceFeatures>): ReferenceFeatures => {
  const headDim = raw.head_dim ?? raw.hidden_size / raw.num_attention_heads;
  return {
    hidden: raw.hidden_size,
    layers: raw.num_hidden_layers,
    heads: raw.num_attention_heads,
    kvHeads: raw.num_key_value_heads,
    headDim,
    eps: raw.rms_norm_eps,
    normPlusOne: false,
    embedScale: 1,
    qkNorm: false,
    sandwichNorms: false,
    fused: false,
    activation: 'silu',
    attnScale: 1 / Math.sqrt(headDim),
    attnSoftcap: null,
    finalSoftcap: null,
    window: () => null,
    rope: () => unscaled(plainFrequencies(raw.rope_theta ?? 10000, headDim)),
    tied: raw.tie_word_embeddings ?? false,
    ...over,
  };
};

interface Family {
  name: string;
  raw: Record<string, any>;
  reference: ReferenceFeatures;
}

const llama3Raw = {
  ...base,
  architectures: ['LlamaForCausalLM'],
  model_type: 'llama',
  head_dim: 16,
  rope_theta: 10000,
  // three bands with head_dim 16: wavelength 6.3 kept, 20 blended, 63+ divided by factor
  rope_scaling: {
    rope_type: 'llama3',
    factor: 4,
    low_freq_factor: 1,
    high_freq_factor: 4,
    original_max_position_embeddings: 32,
  },
  tie_word_embeddings: true,
};
const qwen2Raw = {
  ...base,
  architectures: ['Qwen2ForCausalLM'],
  model_type: 'qwen2',
  rope_theta: 10000,
  rope_scaling: { type: 'yarn', factor: 4, original_max_position_embeddings: 16 },
  use_sliding_window: true,
  sliding_window: 5,
  max_window_layers: 1,
  tie_word_embeddings: false,
};
const qwen3Raw = {
  ...base,
  architectures: ['Qwen3ForCausalLM'],
  model_type: 'qwen3',
  head_dim: 16,
  rope_theta: 1000,
  rope_scaling: { rope_type: 'linear', factor: 2 },
  attention_bias: false,
  tie_word_embeddings: false,
};
const gemma2Raw = {
  ...base,
  architectures: ['Gemma2ForCausalLM'],
  model_type: 'gemma2',
  num_hidden_layers: 3,
  head_dim: 16,
  hidden_activation: 'gelu_pytorch_tanh',
  query_pre_attn_scalar: 24,
  attn_logit_softcapping: 0.7,
  final_logit_softcapping: 1.5,
  sliding_window: 4,
  rope_theta: 10000,
};
const gemma3Raw = {
  ...base,
  architectures: ['Gemma3ForCausalLM'],
  model_type: 'gemma3_text',
  num_hidden_layers: 3,
  head_dim: 16,
  hidden_activation: 'gelu_pytorch_tanh',
  query_pre_attn_scalar: 20,
  attn_logit_softcapping: null,
  final_logit_softcapping: null,
  sliding_window: 4,
  sliding_window_pattern: 3,
  rope_theta: 1000,
  rope_local_base_freq: 50,
  rope_scaling: { rope_type: 'linear', factor: 2 },
};
const phi3Raw = {
  ...base,
  architectures: ['Phi3ForCausalLM'],
  model_type: 'phi3',
  hidden_act: 'silu',
  rope_theta: 10000,
  rope_scaling: null,
  original_max_position_embeddings: 64,
  sliding_window: 5,
  tie_word_embeddings: false,
};

const FAMILIES: Family[] = [
  {
    name: 'Llama 3 (llama3 RoPE, tied embeddings, head_dim ≠ hidden/heads)',
    raw: llama3Raw,
    reference: features(llama3Raw, {
      rope: () => unscaled(llama3Frequencies(10000, 16, llama3Raw.rope_scaling)),
    }),
  },
  {
    name: 'Qwen2.5 (q/k/v biases, YaRN, sliding window from max_window_layers)',
    raw: qwen2Raw,
    reference: features(qwen2Raw, {
      window: (l) => (l >= 1 ? 5 : null),
      rope: () => yarn(10000, 8, qwen2Raw.rope_scaling),
    }),
  },
  {
    name: 'Qwen3 (q/k head norms, linear RoPE scaling)',
    raw: qwen3Raw,
    reference: features(qwen3Raw, {
      qkNorm: true,
      rope: () => unscaled(plainFrequencies(1000, 16).map((f) => f / 2)),
    }),
  },
  {
    name: 'Gemma 2 (1 + w norms, scaled embeddings, GeGLU, four norms, soft-caps, query_pre_attn_scalar, alternating windows)',
    raw: gemma2Raw,
    reference: features(gemma2Raw, {
      normPlusOne: true,
      embedScale: Math.fround(Math.sqrt(32)),
      sandwichNorms: true,
      activation: 'gelu_tanh',
      attnScale: 1 / Math.sqrt(24),
      attnSoftcap: 0.7,
      finalSoftcap: 1.5,
      window: (l) => (l % 2 === 0 ? 4 : null),
      tied: true,
    }),
  },
  {
    name: 'Gemma 3 (q/k norms, local/global pattern with separate RoPE bases, scaled global RoPE)',
    raw: gemma3Raw,
    reference: features(gemma3Raw, {
      normPlusOne: true,
      embedScale: Math.fround(Math.sqrt(32)),
      qkNorm: true,
      sandwichNorms: true,
      activation: 'gelu_tanh',
      attnScale: 1 / Math.sqrt(20),
      window: (l) => ((l + 1) % 3 === 0 ? null : 4),
      rope: (l) =>
        unscaled((l + 1) % 3 === 0 ? plainFrequencies(1000, 16).map((f) => f / 2) : plainFrequencies(50, 16)),
      tied: true,
    }),
  },
  {
    name: 'Phi-3 (fused qkv_proj and gate_up_proj, GQA, sliding window)',
    raw: phi3Raw,
    reference: features(phi3Raw, { fused: true, window: () => 5 }),
  },
];

/** Random weights with norm weights spread around their init, so that w and 1 + w differ visibly. */
function weightsFor(cfg: ModelConfig, seed: number): Weights {
  const weights = randomWeights(cfg, seed, 0.2);
  const rng = createRng(seed + 100);
  for (const [name, t] of weights)
    if (/norm\.weight$/.test(name)) t.data.forEach((v, i) => (t.data[i] = v + rng.normal() * 0.3));
  return weights;
}

const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
};

for (const family of FAMILIES) {
  test(`${family.name}: float64 reference, cached = prefill, training = inference, HF round trip`, async (t) => {
    const cfg = parseHfConfig(family.raw);
    const weights = weightsFor(cfg, 3);
    const V = cfg.vocabSize;
    const model = await NativeModel.create(family.name, cfg, weights, idTokenizer(V));
    t.after(() => model.dispose());
    const rng = createRng(7);
    const tokens = Array.from({ length: 20 }, () => 1 + rng.int(V - 1));

    // the reference's log-probs of the next token after each prefix
    const reference = new ReferenceDecoder(family.reference, weights);
    const expected = tokens.map((tok) => logSoftmax64(reference.step(tok)));

    // one prefill scoring every token
    const [scored] = await model.score([{ prefix: tokens.slice(0, 1), continuation: tokens.slice(1) }]);
    const expectedScores = tokens.slice(1).map((tok, i) => expected[i][tok]);
    assert.ok(
      maxDiff(scored.logprobs, expectedScores) < 1e-5,
      `prefill vs reference: ${maxDiff(scored.logprobs, expectedScores)}`,
    );

    // KV-cached decode, one token at a time: the whole distribution at every position
    const state = await model.open([tokens.slice(0, 1)]);
    for (let i = 0; i < tokens.length; i++) {
      const lp = (await state.nextLogprobs()).data;
      assert.ok(maxDiff(lp, expected[i]) < 1e-5, `decode position ${i}: ${maxDiff(lp, expected[i])}`);
      if (i + 1 < tokens.length) await state.append([[tokens[i + 1]]]);
    }
    state.close();

    // batched with ragged chunks (masked holes in the shared cache): each row as if alone
    const other = Array.from({ length: 14 }, () => 1 + rng.int(V - 1));
    const otherRef = new ReferenceDecoder(family.reference, weights);
    const otherExpected = other.map((tok) => logSoftmax64(otherRef.step(tok)));
    const batch = await model.open([tokens.slice(0, 7), other.slice(0, 2)]);
    await batch.append([tokens.slice(7, 9), other.slice(2, 9)]);
    await batch.append([tokens.slice(9, 16), other.slice(9, 10)]);
    const last = (await batch.nextLogprobs()).data;
    assert.ok(
      maxDiff(last.subarray(0, V), expected[15]) < 1e-5,
      `batched row 0: ${maxDiff(last.subarray(0, V), expected[15])}`,
    );
    assert.ok(
      maxDiff(last.subarray(V), otherExpected[9]) < 1e-5,
      `batched row 1: ${maxDiff(last.subarray(V), otherExpected[9])}`,
    );
    batch.close();

    // hidden states: layer 0 is the (scaled) embedding of the token, every layer has hidden_size values
    const hidden = await model.hiddenStates({ sequences: [tokens], layers: [0, cfg.numLayers] });
    const embedding = weights.get('model.embed_tokens.weight')!.data;
    const lastToken = tokens[tokens.length - 1];
    const row = Array.from(
      { length: cfg.hiddenSize },
      (_, i) => embedding[lastToken * cfg.hiddenSize + i] * family.reference.embedScale,
    );
    assert.ok(maxDiff(hidden[0], row) < 1e-5, 'layer 0 = embedding');
    assert.equal(hidden[1].length, cfg.hiddenSize);
    assert.ok(hidden[1].every(Number.isFinite));

    // the training graph scores sequences as the inference graph does
    const pair = {
      promptIds: tokens.slice(0, 6),
      chosenIds: tokens.slice(6),
      rejectedIds: other.slice(0, 9),
      file: 'test',
      line: 1,
      truncated: false,
    };
    const trained = await computeSequenceLogps(cfg, weights, [pair]);
    const [chosen, rejected] = await model.score([
      { prefix: pair.promptIds, continuation: pair.chosenIds },
      { prefix: pair.promptIds, continuation: pair.rejectedIds },
    ]);
    assert.ok(Math.abs(trained.chosen[0] - chosen.total) < 1e-4, `chosen: ${trained.chosen[0]} vs ${chosen.total}`);
    assert.ok(
      Math.abs(trained.rejected[0] - rejected.total) < 1e-4,
      `rejected: ${trained.rejected[0]} vs ${rejected.total}`,
    );

    // config.json and weights through an HF directory
    const dir = mkdtempSync(join(tmpdir(), 'alignkit-arch-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    writeHfDirectory(join(dir, 'model'), cfg, weights);
    const loaded = readHfDirectory(join(dir, 'model'));
    assert.deepEqual(loaded.config, cfg);
    assert.deepEqual([...loaded.weights.keys()], [...weights.keys()]);
    for (const [name, w] of weights) assert.deepEqual(loaded.weights.get(name)!.data, w.data, name);
    const written = JSON.parse(readFileSync(join(dir, 'model', 'config.json'), 'utf8'));
    assert.deepEqual(parseHfConfig(written), cfg);
    assert.deepEqual(parseHfConfig(JSON.parse(JSON.stringify(configToHf(cfg)))), cfg);
  });
}

// ---- every family trains (full and LoRA, gradients against finite differences), saves reward models, and loads its published config ----

const tinyConfig = (raw: Record<string, any>) =>
  parseHfConfig({ ...raw, vocab_size: 24, hidden_size: 16, intermediate_size: 24, max_position_embeddings: 32 });

test('every family: SFT gradients of every tensor and LoRA gradients of its default targets match finite differences', async () => {
  for (const raw of [qwen3Raw, gemma2Raw, gemma3Raw, phi3Raw]) {
    const cfg = tinyConfig({ ...raw, head_dim: 8 });
    const w = weightsFor(cfg, 5);
    const examples = sftExamples(cfg.vocabSize);
    const full = await directionalChecks(cfg, w, { full: new Set(w.keys()) }, sftObjective(), examples);
    assert.equal(full.length, w.size);
    assertDirectional(full, `${cfg.architecture} sft`);
    const lora = { rank: 2, alpha: 4, targets: defaultLoraTargets(cfg) };
    const adapters = initAdapters(cfg, w, lora, 6);
    const rng = createRng(7);
    for (const [name, t] of adapters)
      if (name.includes('lora_B')) t.data.forEach((_, i) => (t.data[i] = rng.normal() * 0.1));
    const checks = await directionalChecks(
      cfg,
      w,
      { full: new Set(), lora: { config: lora, adapters } },
      sftObjective(),
      examples,
    );
    assert.deepEqual(checks.map((c) => c.name).sort(), [...adapters.keys()].sort());
    assertDirectional(checks, `${cfg.architecture} lora`);
  }
});

test('every family: a reward model saves as <Family>ForSequenceClassification with its config and head', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'alignkit-rm-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  for (const raw of [llama3Raw, qwen2Raw, qwen3Raw, gemma2Raw, gemma3Raw, phi3Raw]) {
    const config = tinyConfig(raw);
    const weights = weightsFor(config, 8);
    weights.set('score.weight', {
      shape: [1, config.hiddenSize],
      data: Float32Array.from({ length: config.hiddenSize }, (_, i) => i / 10),
    });
    const out = join(dir, config.architecture);
    writeRewardModel(out, { config, weights, tokenizer: idTokenizer(config.vocabSize) as never });
    const written = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'));
    assert.deepEqual(written.architectures, [
      config.architecture.replace(
        'ForCausalLM',
        config.family === 'gemma3' ? 'TextForSequenceClassification' : 'ForSequenceClassification',
      ),
    ]);
    assert.ok(isRewardModelDirectory(out));
    assert.deepEqual(parseHfConfig({ ...written, architectures: [config.architecture] }), config);
    const saved = readSafetensors(join(out, 'model.safetensors'));
    assert.deepEqual(saved.get('score.weight')!.data, weights.get('score.weight')!.data);
  }
});

test('published config.json files load as they are, with the features they declare', () => {
  const layers = (name: string) => layerAttention(parseHfConfig(PUBLISHED_CONFIGS[name]));
  const smol = parseHfConfig(PUBLISHED_CONFIGS['SmolLM2-360M']);
  assert.equal(smol.architecture, 'LlamaForCausalLM');
  assert.equal(smol.tieWordEmbeddings, true);
  assert.equal(smol.headDim, 64);
  const llama32 = parseHfConfig(PUBLISHED_CONFIGS['Llama-3.2-1B']);
  assert.equal(llama32.ropeScaling?.type, 'llama3');
  // Qwen2.5: use_sliding_window false, so no layer is windowed
  assert.ok(layers('Qwen2.5-0.5B').every((l) => l.window === null));
  assert.equal(parseHfConfig(PUBLISHED_CONFIGS['Qwen3-0.6B']).headDim, 128);
  // Gemma 3 1B: five local layers (window 512, base 10000) to one global (base 1e6)
  const gemma3 = layers('Gemma-3-1B');
  assert.deepEqual(
    gemma3.slice(0, 6).map((l) => l.window),
    [512, 512, 512, 512, 512, null],
  );
  assert.deepEqual(
    gemma3.slice(0, 6).map((l) => l.rope?.theta),
    [10000, 10000, 10000, 10000, 10000, 1e6],
  );
  assert.ok(gemma3.every((l) => l.scale === 1 / 16 && l.softcap === null));
  // Gemma 2: even layers windowed, logits soft-capped at 50, the LM head at 30
  const gemma2 = layers('Gemma-2-2B');
  assert.deepEqual(
    gemma2.slice(0, 4).map((l) => l.window),
    [4096, null, 4096, null],
  );
  assert.ok(gemma2.every((l) => l.softcap === 50));
  assert.equal(parseHfConfig(PUBLISHED_CONFIGS['Gemma-2-2B']).finalLogitSoftcap, 30);
  assert.ok(layers('Phi-3-mini-4k').every((l) => l.window === 2047));
  for (const [name, raw] of Object.entries(PUBLISHED_CONFIGS))
    assert.deepEqual(
      parseHfConfig(JSON.parse(JSON.stringify(configToHf(parseHfConfig(raw))))),
      parseHfConfig(raw),
      name,
    );
});

test('bad family configs and tensors: one error naming the file, the field and what was expected', () => {
  const file = 'models/x/config.json';
  const bad = (raw: Record<string, unknown>, field: string, pattern: RegExp) =>
    assertNamedError(() => parseHfConfig(raw, file), `${file}, field "${field}"`, pattern);
  const { head_dim: _, ...gemmaNoHeadDim } = gemma2Raw;
  bad(gemmaNoHeadDim, 'head_dim', /missing \(expected a positive integer/);
  bad(
    { ...gemma2Raw, attn_logit_softcapping: 'high' },
    'attn_logit_softcapping',
    /expected a positive number, got "high"/,
  );
  bad({ ...gemma2Raw, layer_types: ['sliding_attention'] }, 'layer_types', /expected 3 entries \(num_hidden_layers\)/);
  bad({ ...gemma2Raw, hidden_activation: 'relu' }, 'hidden_activation', /unsupported activation "relu"/);
  bad(
    { ...phi3Raw, rope_scaling: { type: 'longrope', short_factor: [1], long_factor: [1] } },
    'rope_scaling',
    /RoPE type "longrope" is not supported: its frequencies change with the sequence length/,
  );
  bad({ ...phi3Raw, partial_rotary_factor: 0.75 }, 'partial_rotary_factor', /rotary embeddings on part of each head/);
  bad(
    { ...qwen2Raw, rope_scaling: { type: 'yarn', factor: 'four' } },
    'rope_scaling.factor',
    /expected a positive number, got "four"/,
  );
  bad(
    { ...llama3Raw, rope_scaling: { rope_type: 'llama3', factor: 8, low_freq_factor: 1, high_freq_factor: 4 } },
    'rope_scaling.original_max_position_embeddings',
    /missing \(expected a positive integer\)/,
  );
  bad({ ...gemma3Raw, rope_local_base_freq: -1 }, 'rope_local_base_freq', /expected a positive number/);
  bad(
    { ...qwen3Raw, architectures: ['Qwen3MoeForCausalLM'] },
    'architectures',
    /unsupported architecture "Qwen3MoeForCausalLM" \(supported: .*Qwen3ForCausalLM, Gemma2ForCausalLM, Gemma3ForCausalLM, Phi3ForCausalLM/,
  );
  // a fused tensor of the wrong size names the tensor, both shapes and the config
  const phi3 = parseHfConfig(phi3Raw);
  const shapes = expectedWeightShapes(phi3);
  assertNamedError(
    () =>
      checkWeightShapes(
        phi3,
        new Map(shapes).set('model.layers.1.self_attn.qkv_proj.weight', [96, 32]),
        'model.safetensors',
      ),
    'model.safetensors',
    /tensor "model.layers.1.self_attn.qkv_proj.weight" has shape \[96, 32\], expected \[64, 32\] \(config: Phi3ForCausalLM.*2 kv heads of 8/,
  );
});
