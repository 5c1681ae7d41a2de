/**
 * The WebAssembly decode kernel (src/lm/native/wasm-decoder.ts): llama2.c's greedy story
 * byte for byte, log-probs within 1e-4 of the onnxruntime path on stories260K and on small
 * llama-family models (batches with holes, forks, scoring, sliding windows, Qwen3's head norms),
 * hidden states still answered (by onnxruntime), chosen by default for tiny models and
 * overridable, a model it cannot run falls back with one note; the committed wasm is what the
 * committed C source builds to.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { NativeModel } from '../src/lm/native/native-model.ts';
import type { StepRuntime } from '../src/lm/native/runtime.ts';
import { readLlama2cCheckpoint } from '../src/models/llama2c-checkpoint.ts';
import type { ModelConfig } from '../src/models/config.ts';
import { Llama2cTokenizer } from '../src/tokenizers/llama2c-tokenizer.ts';
import type { Tokenizer } from '../src/tokenizers/tokenizer.ts';
import { LLAMA_STEP_WASM, KERNEL_COMPILER } from '../src/lm/native/wasm/llama-step-wasm.ts';
import { clangVersion, compileKernel } from '../scripts/build-wasm.ts';
import { maxAbsDiff } from './helpers/graph-harness.ts';
import { randomGpt2Config, randomLlamaConfig, randomWeights, tinyQwen3Config } from './helpers/random-models.ts';
import { idTokenizer } from './helpers/id-tokenizer.ts';

const STORIES = 'data/stories260K/stories260K.bin';
const TOK = 'data/stories260K/tok512.bin';
const FIXTURE = 'data/stories260K/greedy-200.expected.txt';
const missing = existsSync(STORIES) ? false : `needs ${STORIES}`;

const runtimes = async (cfg: ModelConfig, weights: Parameters<typeof NativeModel.create>[2], tok: Tokenizer) => {
  const load = (runtime: StepRuntime) => NativeModel.create(runtime, cfg, weights, tok, { runtime });
  return { wasm: await load('wasm'), ort: await load('onnxruntime') };
};

test(
  "stories260K on the kernel: llama2.c's greedy story byte for byte, log-probs within 1e-4 of onnxruntime",
  { skip: missing },
  async () => {
    const { config, weights } = readLlama2cCheckpoint(STORIES);
    const tok = Llama2cTokenizer.fromFile(TOK);
    const auto = await NativeModel.create('auto', config, weights, tok);
    assert.equal(auto.stepRuntime, 'wasm', 'a 260K-parameter model runs on the kernel by default');
    const { wasm, ort } = await runtimes(config, weights, tok);
    assert.equal(ort.stepRuntime, 'onnxruntime');
    const req = { prompt: [1], maxNewTokens: 200, temperature: 0, logprobs: true };
    const [a, b] = [(await wasm.sample(req))[0], (await ort.sample(req))[0]];
    assert.equal(a.text.trimEnd(), readFileSync(FIXTURE, 'utf8').trimEnd());
    assert.deepEqual(a.tokens, b.tokens);
    const worst = maxAbsDiff(a.logprobs!, b.logprobs!);
    assert.ok(worst < 1e-4, `log-probs differ by ${worst}`);
    // by default a long prompt's prefill goes to onnxruntime (batched matmuls) and the decode to the kernel
    const long = { prompt: a.tokens.slice(0, 40), maxNewTokens: 60, temperature: 0, logprobs: true };
    const [c, d] = [(await auto.sample(long))[0], (await ort.sample(long))[0]];
    assert.deepEqual(c.tokens, d.tokens);
    assert.ok(maxAbsDiff(c.logprobs!, d.logprobs!) < 1e-4, `mixed: ${maxAbsDiff(c.logprobs!, d.logprobs!)}`);
    for (const m of [auto, wasm, ort]) await m.dispose();
  },
);

const qwen3 = tinyQwen3Config();

const FAMILIES: [string, ModelConfig][] = [
  ['llama, head size 8, tied head', randomLlamaConfig({ numKvHeads: 2, tieWordEmbeddings: true })],
  ['llama with attention biases, head size 16', randomLlamaConfig({ headDim: 16, attentionBias: true })],
  ['qwen2 (q/k/v biases), head size 6', randomLlamaConfig({ family: 'qwen2', hiddenSize: 24, numKvHeads: 2 })],
  ['mistral (sliding window)', randomLlamaConfig({ family: 'mistral', slidingWindow: 5 })],
  ['qwen3 (per-head q/k norms)', qwen3],
];

for (const [name, cfg] of FAMILIES)
  test(`kernel = onnxruntime within 1e-4: ${name}: sampling, ragged batches with holes, forks, scoring`, async () => {
    const { wasm, ort } = await runtimes(cfg, randomWeights(cfg, 9, 0.2), idTokenizer(cfg.vocabSize, 1));
    assert.equal(wasm.stepRuntime, 'wasm');
    const req = { prompt: 'abcdef', maxNewTokens: 24, temperature: 0, logprobs: true };
    const [a, b] = [(await wasm.sample(req))[0], (await ort.sample(req))[0]];
    assert.deepEqual(a.tokens, b.tokens);
    assert.ok(maxAbsDiff(a.logprobs!, b.logprobs!) < 1e-4, `sampled: ${maxAbsDiff(a.logprobs!, b.logprobs!)}`);
    // ragged chunks leave masked holes; fork reorders rows; the cache grows past its first capacity
    const walk = async (m: NativeModel) => {
      const seen: Float32Array[] = [];
      let state = await m.open([
        [1, 5, 9, 4],
        [1, 7],
      ]);
      await state.append([[3], [6, 2, 8]]);
      seen.push(Float32Array.from((await state.nextLogprobs()).data));
      const forked = state.fork([1, 0, 1]);
      state.close();
      state = forked;
      for (let i = 0; i < 12; i++) {
        await state.append([[(i * 7) % cfg.vocabSize], [(i * 3) % cfg.vocabSize], [i % 5, 2]]);
        seen.push(Float32Array.from((await state.nextLogprobs()).data));
      }
      state.close();
      return seen;
    };
    const [wa, wb] = [await walk(wasm), await walk(ort)];
    wa.forEach((x, i) => assert.ok(maxAbsDiff(x, wb[i]) < 1e-4, `step ${i}: ${maxAbsDiff(x, wb[i])}`));
    const items = [
      { prefix: 'hello', continuation: ' world, again' },
      { prefix: 'a', continuation: 'bc' },
    ];
    const [sa, sb] = [await wasm.score(items), await ort.score(items)];
    sa.forEach((s, i) => assert.ok(maxAbsDiff(s.logprobs, sb[i].logprobs) < 1e-4, `scores of item ${i}`));
    // hidden states are onnxruntime's, from the same model
    const hidden = { sequences: [[1, 5, 9]], layers: [0, cfg.numLayers] };
    const [ha, hb] = [await wasm.hiddenStates(hidden), await ort.hiddenStates(hidden)];
    assert.deepEqual(ha, hb);
    await wasm.dispose();
    await ort.dispose();
  });

test('states and scoring interleaved on one kernel each get their own results (a server runs them concurrently)', async () => {
  const cfg = FAMILIES[0][1];
  const model = await NativeModel.create('wasm', cfg, randomWeights(cfg, 9, 0.2), idTokenizer(cfg.vocabSize, 1), {
    runtime: 'wasm',
  });
  const prompts = [
    [1, 5, 9],
    [1, 7, 7, 2],
  ];
  const decode = async (prompt: number[]) => {
    const state = await model.open([prompt]);
    const seen: number[][] = [];
    for (let i = 0; i < 8; i++) {
      await state.append([[(prompt[1] * i + 3) % cfg.vocabSize]]);
      seen.push(Array.from((await state.nextLogprobs()).data));
    }
    state.close();
    return seen;
  };
  const items = [{ prefix: [1, 4], continuation: [6, 8, 3] }];
  const alone = [await decode(prompts[0]), await decode(prompts[1]), await model.score(items)];
  const together = await Promise.all([decode(prompts[0]), decode(prompts[1]), model.score(items)]);
  assert.deepEqual(together, alone);
  await model.dispose();
});

test('a model the kernel cannot run falls back to onnxruntime and says so once; onnxruntime is chosen by name', async () => {
  const cfg = randomGpt2Config();
  const gpt2 = await NativeModel.create('gpt2', cfg, randomWeights(cfg), idTokenizer(cfg.vocabSize, 1), {
    runtime: 'wasm',
  });
  assert.equal(gpt2.stepRuntime, 'onnxruntime');
  assert.deepEqual(gpt2.engineNotes, [
    'runtime wasm: the WebAssembly kernel covers the llama and qwen3 families, not GPT2LMHeadModel; using onnxruntime',
  ]);
  const auto = await NativeModel.create('gpt2', cfg, randomWeights(cfg), idTokenizer(cfg.vocabSize, 1));
  assert.deepEqual([auto.stepRuntime, auto.engineNotes], ['onnxruntime', []], 'auto says nothing');
  for (const m of [gpt2, auto]) await m.dispose();
});

const compiler = clangVersion();
test(
  'the committed kernel is what the committed C source builds to (npm run build:wasm)',
  {
    skip:
      compiler === null
        ? 'needs clang and lld (apt-get install clang lld)'
        : compiler !== KERNEL_COMPILER && `built by ${KERNEL_COMPILER}, this machine has ${compiler}`,
  },
  () => {
    assert.equal(Buffer.from(compileKernel()).toString('base64'), LLAMA_STEP_WASM);
  },
);

test('the kernel modules import nothing from Node (they run in a browser too)', () => {
  for (const file of ['src/lm/native/wasm-decoder.ts', 'src/lm/native/wasm/llama-step-wasm.ts']) {
    const imports = [...readFileSync(file, 'utf8').matchAll(/from '([^']+)'/g)].map((m) => m[1]);
    assert.deepEqual(
      imports.filter((i) => i.startsWith('node:') || !i.startsWith('.')),
      [],
      file,
    );
  }
});
