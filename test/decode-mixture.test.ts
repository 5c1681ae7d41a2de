import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mixLogprobs, mixScores } from '../src/decode/mixture.ts';
import { assertScores, scoreChecked, topIndices, type Scorer } from '../src/decode/scorer.ts';
import { cutAtStop } from '../src/decode/chunk-sampler.ts';
import { renderPrompt } from '../src/lm/prompt-format.ts';
import { sentimentReward } from '../src/decode/rewards.ts';
import { AlignkitError } from '../src/errors.ts';
import { createRng } from '../src/util/random.ts';
import type { LogprobMatrix } from '../src/lm/language-model.ts';
import type { Tokenizer } from '../src/tokenizers/tokenizer.ts';

function randomLogprobs(rows: number, vocab: number, seed: number): LogprobMatrix {
  const rng = createRng(seed);
  const data = new Float32Array(rows * vocab);
  for (let r = 0; r < rows; r++) {
    let z = 0;
    for (let v = 0; v < vocab; v++) {
      data[r * vocab + v] = rng.normal() * 3;
      z += Math.exp(data[r * vocab + v]);
    }
    for (let v = 0; v < vocab; v++) data[r * vocab + v] -= Math.log(z);
  }
  return { rows, vocab, data };
}

const rowMass = (m: LogprobMatrix, r: number) => {
  let s = 0;
  for (let v = 0; v < m.vocab; v++) s += Math.exp(m.data[r * m.vocab + v]);
  return s;
};

test('mixing into a reused buffer overwrites it with exactly the fresh result', () => {
  const large = randomLogprobs(2, 33, 4),
    tuned = randomLogprobs(2, 33, 5),
    untuned = randomLogprobs(2, 33, 6);
  untuned.data[7] = -Infinity; // moved away from: takes the row's least likely value
  large.data[40] = -Infinity; // impossible under the large model: stays impossible
  const terms = [
    { logprobs: large, weight: 1 },
    { logprobs: tuned, weight: 1.5 },
    { logprobs: untuned, weight: -1.5 },
  ];
  const fresh = mixScores(terms, [3]);
  const buffer = new Float32Array(2 * 33).fill(123); // what the previous token left
  const reused = mixScores(terms, [3], buffer);
  assert.equal(reused.data, buffer);
  assert.deepEqual(Array.from(reused.data), Array.from(fresh.data));
  assert.equal(reused.data[3], -Infinity);
  assert.equal(reused.data[40], -Infinity);
  // a buffer of another size is left alone
  const small = new Float32Array(5);
  assert.notEqual(mixScores(terms, [], small).data, small);
  assert.deepEqual(Array.from(small), [0, 0, 0, 0, 0]);
});

test('token-level mixtures are distributions: every row sums to one (EFT, ED and IVG weights)', () => {
  const large = randomLogprobs(3, 97, 1),
    tuned = randomLogprobs(3, 97, 2),
    untuned = randomLogprobs(3, 97, 3);
  for (const beta of [0.25, 1, 4]) {
    const m = mixLogprobs([
      { logprobs: large, weight: 1 },
      { logprobs: tuned, weight: beta },
      { logprobs: untuned, weight: -beta },
    ]);
    for (let r = 0; r < 3; r++)
      assert.ok(Math.abs(rowMass(m, r) - 1) < 1e-5, `beta ${beta} row ${r}: mass ${rowMass(m, r)}`);
  }
  for (const alpha of [0.3, 2]) {
    const m = mixLogprobs(
      [
        { logprobs: large, weight: 1 + alpha },
        { logprobs: tuned, weight: -alpha },
      ],
      [5],
    );
    for (let r = 0; r < 3; r++) {
      assert.ok(Math.abs(rowMass(m, r) - 1) < 1e-5);
      assert.equal(m.data[r * 97 + 5], -Infinity, 'suppressed id is impossible');
    }
  }
});

test('mixing equals p_large·(p_tuned/p_untuned)^β renormalized, and weight 0 leaves the large model unchanged', () => {
  const large = randomLogprobs(2, 11, 4),
    tuned = randomLogprobs(2, 11, 5),
    untuned = randomLogprobs(2, 11, 6);
  const beta = 0.7;
  const m = mixLogprobs([
    { logprobs: large, weight: 1 },
    { logprobs: tuned, weight: beta },
    { logprobs: untuned, weight: -beta },
  ]);
  for (let r = 0; r < 2; r++) {
    const unnorm = Array.from(
      { length: 11 },
      (_, v) =>
        Math.exp(large.data[r * 11 + v]) *
        (Math.exp(tuned.data[r * 11 + v]) / Math.exp(untuned.data[r * 11 + v])) ** beta,
    );
    const z = unnorm.reduce((a, b) => a + b, 0);
    for (let v = 0; v < 11; v++) assert.ok(Math.abs(Math.exp(m.data[r * 11 + v]) - unnorm[v] / z) < 1e-5);
  }
  const same = mixLogprobs([
    { logprobs: large, weight: 1 },
    { logprobs: tuned, weight: 0 },
    { logprobs: untuned, weight: -0 },
  ]);
  for (let i = 0; i < large.data.length; i++) assert.ok(Math.abs(same.data[i] - large.data[i]) < 1e-6);
});

test('mixing: impossible tokens stay impossible, NaN and shape mismatches are clear errors', () => {
  const a = randomLogprobs(1, 5, 7),
    b = randomLogprobs(1, 5, 8);
  a.data[2] = -Infinity;
  b.data[3] = -Infinity;
  const m = mixLogprobs([
    { logprobs: a, weight: 1.5 },
    { logprobs: b, weight: -0.5 },
  ]);
  assert.equal(m.data[2], -Infinity);
  assert.ok(
    Number.isFinite(m.data[3]),
    'a token impossible under the negatively weighted model does not become +Infinity',
  );
  assert.ok(Math.abs(rowMass(m, 0) - 1) < 1e-5);
  const nan = randomLogprobs(1, 5, 9);
  nan.data[1] = NaN;
  assert.throws(
    () => mixLogprobs([{ logprobs: nan, weight: 1 }]),
    (e: unknown) => e instanceof AlignkitError && e.kind === 'numeric' && /NaN/.test(e.message),
  );
  assert.throws(
    () =>
      mixLogprobs([
        { logprobs: a, weight: 1 },
        { logprobs: randomLogprobs(1, 6, 1), weight: 1 },
      ]),
    /matching shapes/,
  );
});

test('a scorer returning NaN or the wrong count is a clear error naming the scorer', async () => {
  const items = [
    { prompt: 'p', response: 'good', finishReason: null },
    { prompt: 'p', response: 'bad', finishReason: 'eos' as const },
  ];
  const nanScorer: Scorer = { name: 'broken-rm', score: async (xs) => xs.map((x, i) => (i === 1 ? NaN : 1)) };
  await assert.rejects(
    scoreChecked(nanScorer, items),
    (e: unknown) =>
      e instanceof AlignkitError && e.kind === 'numeric' && /broken-rm/.test(e.message) && /NaN/.test(e.message),
  );
  assert.throws(() => assertScores('short', [1], items), /returned 1 scores for 2/);
  assert.deepEqual(
    await scoreChecked({ name: 'ok', score: async (xs) => xs.map((x) => x.response.length) }, items),
    [4, 3],
  );
});

test('top-W selection is sorted best first with ties to the lower row', () => {
  assert.deepEqual(topIndices([1, 3, 3, 0, 2], 3), [1, 2, 4]);
  assert.deepEqual(topIndices([0, 0, 0], 2), [0, 1]);
});

test('stop strings cut at the earliest occurrence', () => {
  assert.equal(cutAtStop('abc Query x Response', ['Response', 'Query']), 'abc ');
  assert.equal(cutAtStop('abc', ['Query']), null);
  assert.equal(cutAtStop('abc', undefined), null);
});

test('prompt formats: templates, functions, chat, and a clear error for a template without {prompt}', () => {
  const tok = { hasChatTemplate: false } as Tokenizer;
  assert.equal(renderPrompt(undefined, 'hi', tok), 'hi');
  assert.equal(renderPrompt('Q: {prompt}\nA:', 'hi', tok), 'Q: hi\nA:');
  assert.equal(
    renderPrompt((p) => p.toUpperCase(), 'hi', tok),
    'HI',
  );
  assert.throws(() => renderPrompt('no placeholder', 'hi', tok), /must contain "\{prompt\}"/);
  assert.throws(() => renderPrompt('chat', 'hi', tok), /chat template/);
});

test('gold sentiment rewards rank a happy story above a sad one (vader and afinn)', async () => {
  const items = [
    {
      prompt: 'Once upon a time',
      response: ' Lily was happy. She loved her kind friends and smiled.',
      finishReason: 'eos' as const,
    },
    {
      prompt: 'Once upon a time',
      response: ' Lily was sad. She cried because her toy was broken and she was angry.',
      finishReason: 'eos' as const,
    },
    { prompt: 'Once upon a time', response: '', finishReason: 'eos' as const },
  ];
  for (const lexicon of ['vader', 'afinn'] as const) {
    const [happy, sad, empty] = await scoreChecked(sentimentReward({ lexicon }), items);
    assert.ok(happy > 0 && sad < 0, `${lexicon}: happy ${happy}, sad ${sad}`);
    assert.equal(empty, 0);
  }
  assert.throws(() => sentimentReward({ lexicon: 'nope' as 'vader' }), /unknown sentiment lexicon/);
});
