import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NativeModel } from '../src/lm/native/native-model.ts';
import { loadNativeModel } from '../src/lm/load.ts';
import { readHfDirectory } from '../src/models/hf-directory.ts';
import { Llama2cTokenizer } from '../src/tokenizers/llama2c-tokenizer.ts';
import { writeRandomLlama, writeRandomGpt2 } from './helpers/random-models.ts';
import { plainLlamaReference } from './helpers/reference-decoder.ts';
import { maxAbsDiff } from './helpers/graph-harness.ts';
import { createRng } from '../src/util/random.ts';
import { idTokenizer } from './helpers/id-tokenizer.ts';

const STORIES = 'data/stories260K/stories260K.bin';
const TOK = 'data/stories260K/tok512.bin';
const FIXTURE = 'data/stories260K/greedy-200.expected.txt';

function tmp(t: { after: (f: () => void) => void }): string {
  const d = mkdtempSync(join(tmpdir(), 'alignkit-engine-'));
  t.after(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

const tokenizer = () => Llama2cTokenizer.fromFile(TOK);

/** Random-weight models of each supported architecture, loaded back from safetensors written in HF layout. */
async function randomModels(t: { after: (f: () => void) => void }) {
  const dir = tmp(t);
  const specs = [
    [
      'llama-gqa',
      () =>
        writeRandomLlama(join(dir, 'llama'), {
          family: 'llama',
          attentionBias: true,
          vocabSize: 512,
          hiddenSize: 32,
          numHeads: 4,
          numKvHeads: 2,
          numLayers: 2,
          maxPositions: 64,
          seed: 1,
        }),
      join(dir, 'llama'),
    ],
    [
      'qwen2',
      () =>
        writeRandomLlama(join(dir, 'qwen2'), {
          family: 'qwen2',
          vocabSize: 512,
          hiddenSize: 32,
          numHeads: 4,
          numKvHeads: 2,
          numLayers: 2,
          maxPositions: 64,
          seed: 2,
          dtype: 'BF16',
        }),
      join(dir, 'qwen2'),
    ],
    [
      'mistral',
      () =>
        writeRandomLlama(join(dir, 'mistral'), {
          family: 'mistral',
          vocabSize: 512,
          hiddenSize: 32,
          numHeads: 4,
          numKvHeads: 1,
          numLayers: 2,
          maxPositions: 64,
          seed: 3,
          dtype: 'F16',
          slidingWindow: 5,
        }),
      join(dir, 'mistral'),
    ],
    [
      'gpt2',
      () =>
        writeRandomGpt2(join(dir, 'gpt2'), {
          vocabSize: 512,
          hiddenSize: 32,
          numHeads: 4,
          numLayers: 2,
          maxPositions: 64,
          seed: 4,
          shardBytes: 40_000,
        }),
      join(dir, 'gpt2'),
    ],
  ] as const;
  const out: { name: string; model: NativeModel; weights: any; config: any }[] = [];
  for (const [name, write, path] of specs) {
    write();
    const { config, weights } = readHfDirectory(path);
    out.push({ name, model: await NativeModel.create(name, config, weights, tokenizer()), weights, config });
  }
  t.after(async () => {
    for (const m of out) await m.model.dispose();
  });
  return out;
}

const seq = (n: number, seed: number) => {
  const r = createRng(seed);
  return [1, ...Array.from({ length: n - 1 }, () => 3 + r.int(500))];
};

test('stories260K greedy from BOS reproduces the reference C output', async () => {
  const model = await loadNativeModel(STORIES, TOK);
  const [s] = await model.sample({ prompt: [1], maxNewTokens: 200, temperature: 0 });
  assert.equal(s.text.trimEnd(), readFileSync(FIXTURE, 'utf8').trimEnd());
  await model.dispose();
});

test('llama-family logits equal an independent float64 forward pass', async (t) => {
  for (const m of (await randomModels(t)).filter((m) => m.config.family === 'llama')) {
    const ids = seq(12, 5);
    const ref = plainLlamaReference(m.config, m.weights);
    const state = await m.model.open([ids.slice(0, 1)]);
    for (let i = 0; i < ids.length; i++) {
      const refLogits = ref.step(ids[i]);
      const lse = Math.log(refLogits.reduce((a, v) => a + Math.exp(v), 0));
      const lp = await state.nextLogprobs();
      assert.ok(
        maxAbsDiff(
          lp.data,
          Array.from(refLogits, (v) => v - lse),
        ) < 1e-4,
        `${m.name} position ${i}`,
      );
      if (i + 1 < ids.length) await state.append([[ids[i + 1]]]);
    }
    state.close();
  }
});

test('GPT-2 log-probs equal a plain PyTorch forward pass (golden file from scripts/torch-gpt2-reference.py)', async (t) => {
  const dir = tmp(t);
  // the same random model the golden file was computed from (seeded)
  const { config, weights } = writeRandomGpt2(join(dir, 'gpt2'), {
    vocabSize: 96,
    hiddenSize: 32,
    numHeads: 4,
    numLayers: 2,
    maxPositions: 32,
    seed: 42,
    std: 0.2,
  });
  const golden = JSON.parse(readFileSync(new URL('./fixtures/gpt2-random-golden.json', import.meta.url), 'utf8'));
  const model = await NativeModel.create('gpt2', config, weights, idTokenizer(96));
  const state = await model.open([golden.tokens.slice(0, 1)]);
  for (let i = 0; i < golden.tokens.length; i++) {
    const lp = await state.nextLogprobs();
    assert.ok(
      maxAbsDiff(lp.data, golden.logprobs[i]) < 2e-5,
      `position ${i}: ${maxAbsDiff(lp.data, golden.logprobs[i])}`,
    );
    if (i + 1 < golden.tokens.length) await state.append([[golden.tokens[i + 1]]]);
  }
  state.close();
  await model.dispose();
});

test('prefill + KV-cached decode gives the same log-probs as one prefill, for every architecture', async (t) => {
  for (const { name, model } of await randomModels(t)) {
    const ids = seq(30, 11);
    const [whole] = await model.score([{ prefix: ids.slice(0, 4), continuation: ids.slice(4) }]);
    const state = await model.open([ids.slice(0, 4)]);
    const pieces = [ids.slice(4, 5), ids.slice(5, 13), ids.slice(13, 14), ids.slice(14)];
    const stepwise: number[] = [];
    for (const p of pieces) stepwise.push(...(await state.append([p]))[0]);
    state.close();
    assert.ok(maxAbsDiff(stepwise, whole.logprobs) < 1e-5, `${name}: ${maxAbsDiff(stepwise, whole.logprobs)}`);
  }
});

test('batched, padded sequences give the same log-probs as one at a time', async (t) => {
  for (const { name, model } of await randomModels(t)) {
    const items = [seq(5, 1), seq(17, 2), seq(9, 3)].map((s) => ({
      prefix: s.slice(0, 2),
      continuation: s.slice(2),
    }));
    const batched = await model.score(items);
    for (let i = 0; i < items.length; i++) {
      const [single] = await model.score([items[i]]);
      assert.ok(maxAbsDiff(batched[i].logprobs, single.logprobs) < 1e-5, `${name} item ${i}`);
    }
    // decode states: rows of different lengths appended together equal separate states
    const state = await model.open(items.map((it) => it.prefix as number[]));
    const chunks = items.map((it) => (it.continuation as number[]).slice(0, 3 + 2 * items.indexOf(it)));
    const together = await state.append(chunks);
    for (let i = 0; i < items.length; i++) {
      const alone = await model.open([items[i].prefix as number[]]);
      assert.ok(maxAbsDiff((await alone.append([chunks[i]]))[0], together[i]) < 1e-5, `${name} state row ${i}`);
      alone.close();
    }
    state.close();
  }
});

test('fork reorders beams without recomputation and keeps each row exact', async (t) => {
  const [{ model }] = await randomModels(t);
  const a = seq(6, 21),
    b = seq(9, 22);
  const state = await model.open([a, b]);
  const processed = model.usage.processedTokens;
  const forked = state.fork([1, 0, 1]);
  assert.equal(model.usage.processedTokens, processed, 'fork must not run the model');
  assert.deepEqual(forked.tokens(0), b);
  const lp = await forked.nextLogprobs();
  const ref = await state.nextLogprobs();
  assert.ok(maxAbsDiff(lp.data.subarray(0, lp.vocab), ref.data.subarray(lp.vocab, 2 * lp.vocab)) === 0);
  const next = await forked.append([[7, 8], [9], []]);
  const [check] = await model.score([{ prefix: b, continuation: [7, 8] }]);
  assert.ok(maxAbsDiff(next[0], check.logprobs) < 1e-5);
  assert.deepEqual(next[2], []);
  forked.close();
  state.close();
});

test('sampling: seeded reproducibility, n samples, stop strings, top-k 1 is greedy', async () => {
  const model = await loadNativeModel(STORIES, TOK);
  const a = await model.sample({
    prompt: 'Once upon a time',
    n: 3,
    maxNewTokens: 30,
    temperature: 1,
    topP: 0.9,
    seed: 7,
  });
  const b = await model.sample({
    prompt: 'Once upon a time',
    n: 3,
    maxNewTokens: 30,
    temperature: 1,
    topP: 0.9,
    seed: 7,
  });
  assert.deepEqual(
    a.map((s) => s.text),
    b.map((s) => s.text),
  );
  assert.equal(a.length, 3);
  const greedy = await model.sample({ prompt: 'Once upon a time', maxNewTokens: 20, temperature: 0 });
  const top1 = await model.sample({ prompt: 'Once upon a time', maxNewTokens: 20, temperature: 1, topK: 1, seed: 3 });
  assert.equal(top1[0].text, greedy[0].text);
  const stopped = await model.sample({ prompt: [1], maxNewTokens: 200, temperature: 0, stop: ['park'] });
  assert.equal(stopped[0].finishReason, 'stop');
  assert.ok(!stopped[0].text.includes('park') && stopped[0].text.length > 0);
  const withLp = await model.sample({ prompt: [1], maxNewTokens: 10, temperature: 0, logprobs: true });
  const [scored] = await model.score([{ prefix: [1], continuation: withLp[0].tokens }]);
  assert.ok(maxAbsDiff(withLp[0].logprobs!, scored.logprobs) < 1e-5);
  await model.dispose();
});

test('hidden states: chosen layers and positions, equal to the prefix state of open()', async () => {
  const model = await loadNativeModel(STORIES, TOK);
  const ids = [1, 400, 383, 286];
  const [h0, h5] = await model.hiddenStates!({ sequences: [ids, ids.slice(0, 2)], layers: [0, 5] });
  assert.equal(h0.length, 2 * 64);
  const state = await model.open([ids, ids.slice(0, 2)], { hiddenLayers: [0, 5] });
  assert.ok(maxAbsDiff(state.prefixHidden![1], h5) < 1e-5);
  // layer 0 is the token embedding of the last token
  const emb = (await import('../src/models/llama2c-checkpoint.ts'))
    .readLlama2cCheckpoint(STORIES)
    .weights.get('model.embed_tokens.weight')!;
  assert.ok(maxAbsDiff(h0.subarray(0, 64), emb.data.subarray(286 * 64, 287 * 64)) < 1e-7);
  state.close();
  await assert.rejects(model.hiddenStates!({ sequences: [ids], layers: [9] }), /layer 9 does not exist/);
  await model.dispose();
});

test('bad input gives one clear error naming the problem', async (t) => {
  const dir = tmp(t);
  const model = await loadNativeModel(STORIES, TOK);
  await assert.rejects(
    model.sample({ prompt: Array(600).fill(5), maxNewTokens: 5 }),
    /600 tokens; the model's context is 512/,
  );
  await assert.rejects(model.score([{ prefix: [1], continuation: Array(520).fill(5) }]), /context is 512/);
  const state = await model.open([[1]]);
  await assert.rejects(state.append([[9999]]), /outside the vocabulary/);
  await model.dispose();
  // a tokenizer that does not match the model's vocabulary
  writeRandomLlama(join(dir, 'm'), { vocabSize: 300, seed: 1 });
  await assert.rejects(loadNativeModel(join(dir, 'm'), TOK), /tokenizer.*512 tokens.*300/);
  // unknown architecture
  const cfgPath = join(dir, 'm', 'config.json');
  const cfg = JSON.parse(readFileSync(cfgPath, 'utf8'));
  writeFileSync(cfgPath, JSON.stringify({ ...cfg, architectures: ['FalconForCausalLM'] }));
  await assert.rejects(loadNativeModel(join(dir, 'm'), TOK), /config\.json.*FalconForCausalLM/s);
  await assert.rejects(loadNativeModel(join(dir, 'missing'), TOK), /not found/);
});

test('concat joins running batches without recomputation and stays exact', async (t) => {
  const [{ model }] = await randomModels(t);
  const a = seq(6, 31),
    b = seq(11, 32);
  const left = await model.open([a]);
  await left.append([[5, 6, 7]]);
  const right = await model.open([b]);
  const processed = model.usage.processedTokens;
  const joined = left.concat(right);
  assert.equal(model.usage.processedTokens, processed);
  assert.equal(joined.size, 2);
  assert.deepEqual(joined.tokens(1), b);
  const out = await joined.append([[8], [9, 10]]);
  const [ra] = await model.score([{ prefix: [...a, 5, 6, 7], continuation: [8] }]);
  const [rb] = await model.score([{ prefix: b, continuation: [9, 10] }]);
  assert.ok(maxAbsDiff(out[0], ra.logprobs) < 1e-5);
  assert.ok(maxAbsDiff(out[1], rb.logprobs) < 1e-5);
  left.close();
  right.close();
  joined.close();
});
