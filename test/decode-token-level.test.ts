import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AlignkitError } from '../src/errors.ts';
import type { LanguageModel } from '../src/lm/language-model.ts';
import { emulatedFineTuning } from '../src/decode/eft.ts';
import { ED_FAMILIES, emulatedDisalignment } from '../src/decode/emulated-disalignment.ts';
import { integratedValueGuidance } from '../src/decode/ivg.ts';
import { sampleResponse } from '../src/decode/plain-sampling.ts';
import { sentimentReward } from '../src/decode/rewards.ts';
import { TokenStreamSampler } from '../src/decode/token-stream-sampler.ts';
import type { ValueModel } from '../src/decode/value-model.ts';
import { createRng } from '../src/util/random.ts';
import { loadStories, permutedVocabulary } from './helpers/model-wrappers.ts';

const PROMPT = 'Once upon a time, there was a cat';
const sampling = { maxNewTokens: 40, temperature: 0.8, topK: 50 };

let large: LanguageModel, tuned: LanguageModel, untuned: LanguageModel;

test.before(async () => {
  [large, tuned, untuned] = await Promise.all([loadStories(), loadStories(), loadStories()]);
});

/** the sentiment lexicon as a value function of partial responses */
const sentimentValue: ValueModel = { id: 'vader-value', values: (items) => sentimentReward().score(items) };

test('EFT with β = 0 samples exactly what the large model samples', async () => {
  const pair = { tuned, untuned, tunedFormat: 'Lily was happy. {prompt}' };
  for (const seed of [1, 2]) {
    const plain = await sampleResponse(large, PROMPT, { ...sampling, seed });
    const eft = await emulatedFineTuning(large, pair, PROMPT, { ...sampling, seed, beta: 0 });
    assert.deepEqual(eft.tokens, plain.tokens);
    assert.equal(eft.text, plain.text);
    assert.equal(eft.usage.tuned.processedTokens + eft.usage.untuned.processedTokens, 0, 'weight-0 models are not run');
  }
});

test('EFT with the same model under two prompts and β = 1 decodes greedily as the model under the tuned prompt', async () => {
  const second = 'Lily had a red ball. {prompt}';
  const pair = { tuned, untuned, tunedFormat: second };
  const eft = await emulatedFineTuning(large, pair, PROMPT, { maxNewTokens: 30, temperature: 0, beta: 1 });
  const direct = await sampleResponse(large, PROMPT, { maxNewTokens: 30, temperature: 0, largeFormat: second });
  assert.deepEqual(eft.tokens, direct.tokens);
  const baseline = await sampleResponse(large, PROMPT, { maxNewTokens: 30, temperature: 0 });
  assert.notDeepEqual(eft.tokens, baseline.tokens, 'the guidance changed the output');
  for (const role of ['large', 'tuned', 'untuned'])
    assert.ok(eft.usage[role].processedTokens >= 29, `${role} ran every step`);
});

test('ED with α = 0 samples exactly what the base model samples; α > 0 moves away from the aligned model', async () => {
  const plain = await sampleResponse(large, PROMPT, { ...sampling, seed: 7 });
  const ed0 = await emulatedDisalignment(large, tuned, PROMPT, { ...sampling, seed: 7, alpha: 0, minNewTokens: 0 });
  assert.deepEqual(ed0.tokens, plain.tokens);
  // aligned = the model told to be happy; ED amplifies base over it and stays a valid sampler
  const ed = await emulatedDisalignment(large, tuned, PROMPT, {
    maxNewTokens: 30,
    temperature: 0,
    alpha: 1,
    alignedFormat: 'Lily had a red ball. {prompt}',
  });
  const greedy = await sampleResponse(large, PROMPT, { maxNewTokens: 30, temperature: 0 });
  assert.notDeepEqual(ed.tokens, greedy.tokens);
});

test('ED: stop strings end responses, EOS is suppressed meanwhile, trailing "#"/spaces/newlines are stripped', async () => {
  const r = await emulatedDisalignment(large, tuned, PROMPT, {
    maxNewTokens: 60,
    temperature: 0.7,
    seed: 3,
    family: 'alpaca',
    stop: ['.'],
    minNewTokens: 0,
  });
  assert.equal(r.finishReason, 'stop');
  assert.ok(!r.text.includes('.'));
  assert.ok(!/[ #\n]$/.test(r.text));
  assert.equal(ED_FAMILIES['llama-2'].alpha, 0.3);
  assert.equal(ED_FAMILIES.alpaca.alpha, 2);
  await assert.rejects(
    emulatedDisalignment(large, tuned, PROMPT, { ...sampling, family: 'gpt-9' }),
    /unknown ED family/,
  );
  await assert.rejects(emulatedDisalignment(large, tuned, PROMPT, { ...sampling, alpha: -1 }), /alpha/);
});

test('token-level methods refuse models with different vocabularies, naming both models', async () => {
  const other = permutedVocabulary(tuned);
  const isVocabError = (e: unknown) =>
    e instanceof AlignkitError &&
    e.kind === 'capability' &&
    /share one vocabulary/.test(e.message) &&
    /permuted/.test(e.message);
  await assert.rejects(emulatedFineTuning(large, { tuned: other, untuned }, PROMPT, sampling), isVocabError);
  await assert.rejects(emulatedDisalignment(large, other, PROMPT, sampling), isVocabError);
  await assert.rejects(
    integratedValueGuidance(large, { tuned: other, untuned }, sentimentValue, PROMPT, sampling),
    isVocabError,
  );
  // also when β = 0 would leave the mismatched models out
  await assert.rejects(
    emulatedFineTuning(large, { tuned: other, untuned }, PROMPT, { ...sampling, beta: 0 }),
    isVocabError,
  );
});

test('the mixed next-token distribution of real models sums to one in every row', async () => {
  const sampler = await TokenStreamSampler.open(
    [
      { role: 'large', model: large, weight: 1, prompt: PROMPT },
      { role: 'tuned', model: tuned, weight: 1.5, prompt: 'Lily was happy. ' + PROMPT },
      { role: 'untuned', model: untuned, weight: -1.5, prompt: PROMPT },
    ],
    3,
    { maxNewTokens: 8, temperature: 1 },
    createRng(1),
  );
  await sampler.extend(4);
  const mixed = await sampler.nextDistribution();
  sampler.close();
  for (let r = 0; r < mixed.rows; r++) {
    let mass = 0;
    for (let v = 0; v < mixed.vocab; v++) mass += Math.exp(mixed.data[r * mixed.vocab + v]);
    assert.ok(Math.abs(mass - 1) < 1e-4, `row ${r}: ${mass}`);
  }
});

test('IVG: chunks from the EFT mixture, ranked by the explicit value model; the best final candidate is returned', async () => {
  const pair = { tuned, untuned, tunedFormat: 'Lily was happy. {prompt}' };
  const r = await integratedValueGuidance(large, pair, sentimentValue, PROMPT, {
    ...sampling,
    beams: 2,
    successors: 2,
    chunkLength: 8,
    seed: 1,
  });
  assert.ok(r.rounds! >= 2);
  const values = await sentimentValue.values(
    r.candidates!.map((c) => ({ prompt: PROMPT, response: c.text, finishReason: c.finishReason })),
  );
  assert.equal(r.score, Math.max(...values));
  assert.ok(r.usage.tuned.processedTokens > 0 && r.usage.untuned.processedTokens > 0);
  // without a guidance pair the chunks come from the large model alone
  const explicitOnly = await integratedValueGuidance(large, null, sentimentValue, PROMPT, {
    ...sampling,
    beams: 2,
    successors: 2,
    chunkLength: 8,
    seed: 1,
  });
  assert.equal(explicitOnly.usage.tuned, undefined);
  const nanValue: ValueModel = { id: 'nan-value', values: async (items) => items.map(() => NaN) };
  await assert.rejects(
    integratedValueGuidance(large, pair, nanValue, PROMPT, sampling),
    (e: unknown) => e instanceof AlignkitError && e.kind === 'numeric' && /nan-value/.test(e.message),
  );
});

test('token-level methods: a prompt longer than the context is a clear error', async () => {
  const long = 'The cat sat on the mat. '.repeat(150);
  await assert.rejects(
    emulatedFineTuning(large, { tuned, untuned }, long, sampling),
    (e: unknown) => e instanceof AlignkitError && e.kind === 'input' && /context of 512/.test(e.message),
  );
  await assert.rejects(emulatedDisalignment(large, tuned, long, sampling), /context of 512/);
});
