/**
 * The contrib graph flavour wired into the native backend: the same model loaded with `graph:
 * 'contrib'` and `graph: 'standard'` gives the same greedy text, next-token and scored log-probs
 * (to 1e-5) and hidden states; families the contrib step cannot express fall back to the
 * standard graph and say so once; the CLI flag reaches the model.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { parseHfConfig, type ModelConfig } from '../src/models/config.ts';
import { NativeModel } from '../src/lm/native/native-model.ts';
import { ALIGNKIT } from './helpers/alignkit-cli.ts';
import { maxAbsDiff } from './helpers/graph-harness.ts';
import {
  randomGpt2Config,
  randomLlamaConfig,
  randomWeights,
  TINY_CONFIG_JSON,
  tinyQwen3Config,
} from './helpers/random-models.ts';
import { idTokenizer } from './helpers/id-tokenizer.ts';

const base = TINY_CONFIG_JSON;

const qwen3 = tinyQwen3Config();
const gemma2 = parseHfConfig({
  ...base,
  architectures: ['Gemma2ForCausalLM'],
  model_type: 'gemma2',
  head_dim: 16,
  hidden_activation: 'gelu_pytorch_tanh',
  query_pre_attn_scalar: 24,
  sliding_window: 4,
  rope_theta: 10000,
});

const qwen2MixedWindows = parseHfConfig({
  ...base,
  architectures: ['Qwen2ForCausalLM'],
  model_type: 'qwen2',
  rope_theta: 10000,
  use_sliding_window: true,
  sliding_window: 5,
  max_window_layers: 1,
});

const both = async (cfg: ModelConfig) => {
  const weights = randomWeights(cfg, 5, 0.2);
  const tok = idTokenizer(cfg.vocabSize, 1);
  return {
    // onnxruntime by name: small models otherwise run on the WebAssembly kernel, which has no graph
    standard: await NativeModel.create('standard', cfg, weights, tok, { graph: 'standard', runtime: 'onnxruntime' }),
    contrib: await NativeModel.create('contrib', cfg, weights, tok, { graph: 'contrib', runtime: 'onnxruntime' }),
  };
};

const EXPRESSED: [string, ModelConfig][] = [
  ['llama (grouped KV heads, tied head)', randomLlamaConfig({ numKvHeads: 2, tieWordEmbeddings: true })],
  ['qwen2 (q/k/v biases)', randomLlamaConfig({ family: 'qwen2', numKvHeads: 2 })],
  ['mistral (sliding window on every layer)', randomLlamaConfig({ family: 'mistral', slidingWindow: 5 })],
  ['qwen3 (per-head q/k norms)', qwen3],
];

for (const [name, cfg] of EXPRESSED)
  test(`contrib graph = standard graph: ${name}: greedy text, log-probs, scores, hidden states`, async () => {
    const { standard, contrib } = await both(cfg);
    assert.equal(contrib.graphFlavour, 'contrib');
    assert.deepEqual(contrib.engineNotes, []);
    const req = { prompt: 'abcde', maxNewTokens: 20, temperature: 0, logprobs: true };
    const [a] = await standard.sample(req);
    const [b] = await contrib.sample(req);
    assert.deepEqual(b.tokens, a.tokens);
    assert.equal(b.text, a.text);
    assert.ok(
      maxAbsDiff(b.logprobs!, a.logprobs!) < 1e-5,
      `sampled log-probs differ by ${maxAbsDiff(b.logprobs!, a.logprobs!)}`,
    );
    // a batch of two ragged rows with holes in the cache, and every next-token distribution
    const items = [
      { prefix: 'hello', continuation: ' world, again' },
      { prefix: 'a', continuation: 'bc' },
    ];
    const [sa, sb] = [await standard.score(items), await contrib.score(items)];
    sa.forEach((s, i) =>
      assert.ok(
        maxAbsDiff(sb[i].logprobs, s.logprobs) < 1e-5,
        `scores of item ${i}: ${maxAbsDiff(sb[i].logprobs, s.logprobs)}`,
      ),
    );
    const states = [
      await standard.open([
        [1, 5, 9],
        [1, 7],
      ]),
      await contrib.open([
        [1, 5, 9],
        [1, 7],
      ]),
    ];
    for (const s of states) await s.append([[3, 4], [6]]);
    const [na, nb] = [await states[0].nextLogprobs(), await states[1].nextLogprobs()];
    assert.ok(maxAbsDiff(nb.data, na.data) < 1e-5, `next log-probs differ by ${maxAbsDiff(nb.data, na.data)}`);
    const layers = Array.from({ length: cfg.numLayers + 1 }, (_, l) => l);
    const hidden = { sequences: [[1, 5, 9, 3]], layers };
    const [ha, hb] = [await standard.hiddenStates(hidden), await contrib.hiddenStates(hidden)];
    layers.forEach((l) => assert.ok(maxAbsDiff(hb[l], ha[l]) < 1e-5, `hidden state of layer ${l}`));
    await standard.dispose();
    await contrib.dispose();
  });

const FALLBACK: [string, ModelConfig, RegExp][] = [
  ['gemma2', gemma2, /covers the llama and qwen3 families, not Gemma2ForCausalLM/],
  ['qwen2 with windowed and full layers', qwen2MixedWindows, /mixes windowed and full-attention layers/],
  ['gpt2', randomGpt2Config(), /covers the llama and qwen3 families, not GPT2LMHeadModel/],
];

for (const [name, cfg, why] of FALLBACK)
  test(`contrib graph falls back to the standard graph and says so once: ${name}`, async () => {
    const { standard, contrib } = await both(cfg);
    assert.equal(contrib.graphFlavour, 'standard');
    assert.equal(contrib.engineNotes.length, 1);
    assert.match(contrib.engineNotes[0], /^graph flavour contrib: .*; using the standard graph$/);
    assert.match(contrib.engineNotes[0], why);
    const req = { prompt: 'abc', maxNewTokens: 8, temperature: 0, logprobs: true };
    assert.deepEqual((await contrib.sample(req))[0].logprobs, (await standard.sample(req))[0].logprobs);
    await standard.dispose();
    await contrib.dispose();
  });

test('alignkit generate --graph contrib prints the same greedy story as --graph standard; a flavour it lacks is refused', () => {
  const run = (...flags: string[]) =>
    execFileSync(
      process.execPath,
      [
        ...ALIGNKIT,
        'generate',
        '--model',
        'data/stories260K/stories260K.bin',
        '--tokenizer',
        'data/stories260K/tok512.bin',
        '--temperature',
        '0',
        '--max-new-tokens',
        '60',
        '--runtime',
        'onnxruntime',
        ...flags,
      ],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
    );
  assert.equal(run('--graph', 'contrib'), run('--graph', 'standard'));
  assert.throws(
    () => run('--graph', 'fast'),
    (e: { stderr: string }) =>
      e.stderr.trim() === 'alignkit generate: --graph expects one of standard, contrib, got "fast"',
  );
});
