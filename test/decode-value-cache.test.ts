import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { LanguageModel } from '../src/lm/language-model.ts';
import { readLocalCheckpoint } from '../src/lm/load.ts';
import { NativeModel } from '../src/lm/native/native-model.ts';
import { SCORE_HEAD } from '../src/models/inference-graphs.ts';
import { integratedValueGuidance } from '../src/decode/ivg.ts';
import type { GuidancePair } from '../src/decode/log-ratio.ts';
import { type ValueModel, valueModelFromHead } from '../src/decode/value-model.ts';
import { requireScalarHead } from '../src/decode/scalar-head.ts';
import { createRng } from '../src/util/random.ts';
import { STORIES, STORIES_TOKENIZER, loadStories } from './helpers/model-wrappers.ts';

const PROMPT = 'Once upon a time, there was a little bird';
const close = (a: number, b: number, tol = 1e-3) => Math.abs(a - b) <= tol * Math.max(1, Math.abs(a), Math.abs(b));

let large: LanguageModel, small: LanguageModel, valueLm: NativeModel;
let pair: GuidancePair, value: ValueModel;

test.before(async () => {
  large = await loadStories();
  small = await loadStories();
  pair = { tuned: small, untuned: small, tunedFormat: 'Lily was very happy. {prompt}' };
  // stories260K with a random scalar head: a value model with a real body, as `train value` makes
  const ck = readLocalCheckpoint(STORIES, STORIES_TOKENIZER);
  const rng = createRng(3);
  ck.weights.set(SCORE_HEAD, {
    shape: [1, ck.config.hiddenSize],
    data: Float32Array.from({ length: ck.config.hiddenSize }, () => rng.normal() * 0.5),
  });
  valueLm = await NativeModel.create('stories-value', ck.config, ck.weights, ck.tokenizer);
  value = valueModelFromHead(requireScalarHead(valueLm, 'value'));
});

test('IVG: the KV-cached value model ranks exactly like re-scoring every partial response, running a fraction of the tokens', async () => {
  const options = {
    maxNewTokens: 40,
    temperature: 0.9,
    topK: 50,
    stop: ['!'],
    beams: 2,
    successors: 3,
    chunkLength: 4,
    seed: 5,
  };
  const cached = await integratedValueGuidance(large, pair, value, PROMPT, { ...options, scoring: 'cached' });
  const rescored = await integratedValueGuidance(large, pair, value, PROMPT, { ...options, scoring: 'rescore' });
  assert.ok(cached.rounds! > 3, 'several chunks were searched');
  assert.equal(cached.text, rescored.text);
  cached.candidates!.forEach((c, i) => {
    assert.equal(c.text, rescored.candidates![i].text);
    assert.ok(
      close(c.score, rescored.candidates![i].score),
      `row ${i}: ${c.score} vs ${rescored.candidates![i].score}`,
    );
  });
  const [direct] = await value.values([{ prompt: PROMPT, response: cached.text, finishReason: cached.finishReason }]);
  assert.ok(close(direct, cached.score!), `${direct} vs ${cached.score}`);
  const tokens = (r: typeof cached) => r.usage.value.processedTokens;
  assert.ok(
    tokens(cached) * 2 < tokens(rescored),
    `value-model tokens: cached ${tokens(cached)} vs re-scored ${tokens(rescored)}`,
  );
});

test('decode states of a scalar-head model carry the head through append, fork and concat', async () => {
  const ids = (text: string) => valueLm.tokenizer.encode(text, { addBos: true });
  const a = ids('The cat sat'),
    b = ids('A dog ran to the park');
  const state = await valueLm.open([a, b]);
  await state.append([[valueLm.tokenizer.encode(' down', { addBos: false })[0]], []]);
  const expected = await valueLm.scalarHead!([[...a, valueLm.tokenizer.encode(' down', { addBos: false })[0]], b]);
  state.scalars!().forEach((x, i) => assert.ok(close(x, expected[i], 1e-4), `row ${i}: ${x} vs ${expected[i]}`));
  const swapped = state.fork([1, 0]);
  assert.deepEqual(swapped.scalars!(), [state.scalars!()[1], state.scalars!()[0]]);
  const joined = state.concat(swapped);
  assert.equal(joined.scalars!().length, 4);
  for (const s of [state, swapped, joined]) s.close();
  const plain = await (small as NativeModel).open([a]);
  assert.equal(plain.scalars, undefined, 'a plain language model has no scalar readout');
  plain.close();
});

test('IVG scoring: a value model that cannot keep a cache re-scores by default and refuses "cached" clearly', async () => {
  const uncached: ValueModel = {
    id: 'length-value',
    values: async (items) => items.map((it) => it.response.length / 100),
  };
  const options = { maxNewTokens: 12, temperature: 0.9, topK: 50, beams: 2, successors: 2, chunkLength: 4, seed: 1 };
  const r = await integratedValueGuidance(large, pair, uncached, PROMPT, options);
  assert.ok(r.text.length > 0);
  await assert.rejects(
    integratedValueGuidance(large, pair, uncached, PROMPT, { ...options, scoring: 'cached' }),
    (e: unknown) => e instanceof Error && /length-value.*cannot keep KV caches/.test(e.message),
  );
});
