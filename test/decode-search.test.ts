import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AlignkitError } from '../src/errors.ts';
import type { LanguageModel } from '../src/lm/language-model.ts';
import { bestOfN } from '../src/decode/best-of-n.ts';
import { CachedResponseScorer } from '../src/decode/cached-response-scorer.ts';
import { type GuidancePair, logRatioScorer } from '../src/decode/log-ratio.ts';
import { weakToStrongSearch } from '../src/decode/weak-to-strong-search.ts';
import { sampleResponse } from '../src/decode/plain-sampling.ts';
import { scoreChecked, type Scorer } from '../src/decode/scorer.ts';
import { loadStories, permutedVocabulary, textOnly } from './helpers/model-wrappers.ts';

const PROMPT = 'Once upon a time, there was a dog';
const sampling = { maxNewTokens: 40, temperature: 0.9, topK: 50 };
const close = (a: number, b: number, tol = 2e-3) => Math.abs(a - b) <= tol * Math.max(1, Math.abs(a), Math.abs(b));

let model: LanguageModel;
let small: LanguageModel;
/** a guidance pair with a real preference: the "tuned" side reads the prompt after a happy preamble */
let pair: GuidancePair;

test.before(async () => {
  model = await loadStories();
  small = await loadStories();
  pair = { tuned: small, untuned: small, tunedFormat: 'Lily was very happy and she smiled. {prompt}' };
});

test('W2S: cached scoring picks the same beams with the same scores as re-scoring every response from scratch', async () => {
  const options = { ...sampling, beams: 2, successors: 3, chunkLength: 4, seed: 11 };
  const cached = await weakToStrongSearch(model, pair, PROMPT, { ...options, scoring: 'cached' });
  const rescored = await weakToStrongSearch(model, pair, PROMPT, { ...options, scoring: 'rescore' });
  assert.ok(cached.rounds! > 3, 'several chunks were searched');
  assert.equal(cached.text, rescored.text);
  assert.ok(close(cached.score!, rescored.score!), `${cached.score} vs ${rescored.score}`);
  cached.candidates!.forEach((c, i) => {
    assert.equal(c.text, rescored.candidates![i].text);
    assert.ok(
      close(c.score, rescored.candidates![i].score),
      `row ${i}: ${c.score} vs ${rescored.candidates![i].score}`,
    );
  });
  // and both equal a from-scratch score of the returned text
  const [direct] = await scoreChecked(logRatioScorer(pair), [
    { prompt: PROMPT, response: cached.text, finishReason: cached.finishReason },
  ]);
  assert.ok(close(direct, cached.score!), `${direct} vs ${cached.score}`);
  assert.notEqual(cached.score, 0);
  assert.equal(cached.stats!.cacheRebuilds, 0, 'ordinary text never needs a rebuild from scratch');
  const smallTokens = (r: typeof cached) => r.usage['tuned+untuned'].processedTokens;
  assert.ok(
    smallTokens(cached) < smallTokens(rescored) / 2,
    `cached ${smallTokens(cached)} vs rescored ${smallTokens(rescored)} small-model tokens`,
  );
});

test('W2S: rows finishing in different rounds (stop strings, EOS) keep frozen scores, cached = re-scored', async () => {
  const options = {
    ...sampling,
    maxNewTokens: 60,
    stop: ['.', '!'],
    beams: 3,
    successors: 2,
    chunkLength: 3,
    seed: 21,
  };
  const cached = await weakToStrongSearch(model, pair, PROMPT, { ...options, scoring: 'cached' });
  const rescored = await weakToStrongSearch(model, pair, PROMPT, { ...options, scoring: 'rescore' });
  assert.ok(cached.candidates!.every((c) => c.finishReason === 'stop' && !/[.!]/.test(c.text)));
  assert.ok(new Set(cached.candidates!.map((c) => c.text)).size > 1);
  assert.equal(cached.text, rescored.text);
  cached.candidates!.forEach((c, i) =>
    assert.ok(
      close(c.score, rescored.candidates![i].score),
      `row ${i}: ${c.score} vs ${rescored.candidates![i].score}`,
    ),
  );
});

test('CBS with W=1, K=N, L=∞ equals Best-of-N on the same samples', async () => {
  const cbs = await weakToStrongSearch(model, pair, PROMPT, {
    ...sampling,
    beams: 1,
    successors: 5,
    chunkLength: Infinity,
    seed: 3,
  });
  const bon = await bestOfN(model, PROMPT, { ...sampling, n: 5, scorer: logRatioScorer(pair), seed: 3 });
  assert.equal(cbs.rounds, 1);
  assert.deepEqual(
    cbs.candidates!.map((c) => c.text),
    bon.candidates!.map((c) => c.text),
  );
  assert.equal(new Set(bon.candidates!.map((c) => c.text)).size, 5, 'five different samples');
  cbs.candidates!.forEach((c, i) => assert.ok(close(c.score, bon.candidates![i].score)));
  assert.equal(cbs.text, bon.text);
  assert.ok(bon.score === Math.max(...bon.candidates!.map((c) => c.score)));
  assert.ok(bon.usage['tuned+untuned'].processedTokens > 0, 'BoN counts the scorer models');
});

test('with tuned = untuned every candidate scores 0 (cached and from scratch)', async () => {
  const same = { tuned: model, untuned: model };
  const r = await weakToStrongSearch(model, same, PROMPT, {
    ...sampling,
    beams: 2,
    successors: 2,
    chunkLength: 5,
    seed: 5,
  });
  for (const c of r.candidates!) assert.ok(Math.abs(c.score) < 1e-6, `score ${c.score}`);
  const b = await bestOfN(model, PROMPT, { ...sampling, n: 3, scorer: logRatioScorer(same), seed: 5 });
  for (const c of b.candidates!) assert.ok(Math.abs(c.score) < 1e-6);
});

test('batched log-ratio scores equal one-at-a-time scores (responses of different lengths)', async () => {
  const items = [' named Max.', ' who liked to run in the big green park with his friends', ' and'].map(
    (response, i) => ({ prompt: PROMPT, response, finishReason: i === 0 ? ('eos' as const) : null }),
  );
  const batched = await scoreChecked(logRatioScorer(pair), items);
  for (const [i, item] of items.entries()) {
    const [single] = await scoreChecked(logRatioScorer(pair), [item]);
    assert.ok(close(batched[i], single, 1e-4), `${batched[i]} vs ${single}`);
  }
});

test('the EOS term counts only when the sampling model stopped', async () => {
  const scorer = await CachedResponseScorer.open(model, PROMPT, 2);
  const response = ' named Max. Max was happy.';
  const [withEos, withoutEos] = await scorer.score([
    { prompt: PROMPT, response, finishReason: 'eos' },
    { prompt: PROMPT, response, finishReason: 'length' },
  ]);
  scorer.close();
  const ids = model.tokenizer.encode(PROMPT + response, { addBos: true });
  const [eosTerm] = await model.score!([{ prefix: ids, continuation: [model.tokenizer.eosId!] }]);
  assert.ok(eosTerm.total < 0);
  assert.ok(close(withEos - withoutEos, eosTerm.total, 1e-3), `${withEos - withoutEos} vs ${eosTerm.total}`);
});

test('cached scoring: a finished row keeps its frozen score while others grow, across reorders', async () => {
  const scorer = await CachedResponseScorer.open(model, PROMPT, 3);
  const rows = (a: string, b: string, c: string) => [
    { prompt: PROMPT, response: a, finishReason: 'eos' as const },
    { prompt: PROMPT, response: b, finishReason: null },
    { prompt: PROMPT, response: c, finishReason: null },
  ];
  const first = await scorer.score(rows(' named Max.', ' named Ma', ' who'));
  scorer.reorder([0, 1, 1]);
  const second = await scorer.score(rows(' named Max.', ' named Max. He', ' named Max. He was sad'));
  scorer.reorder([2, 0, 2]);
  const third = await scorer.score([
    { prompt: PROMPT, response: ' named Max. He was sad and', finishReason: null },
    { prompt: PROMPT, response: ' named Max.', finishReason: 'eos' },
    { prompt: PROMPT, response: ' named Max. He was sad.', finishReason: 'length' },
  ]);
  scorer.close();
  assert.equal(second[0], first[0]);
  assert.equal(third[1], first[0]);
  const direct = async (response: string, eos: boolean) => {
    const ids = model.tokenizer.encode(PROMPT + response, { addBos: true });
    const promptIds = model.tokenizer.encode(PROMPT, { addBos: true });
    const [r] = await model.score!([
      { prefix: promptIds, continuation: [...ids.slice(promptIds.length), ...(eos ? [model.tokenizer.eosId!] : [])] },
    ]);
    return r.total;
  };
  assert.ok(close(first[0], await direct(' named Max.', true)));
  assert.ok(close(third[0], await direct(' named Max. He was sad and', false)));
  assert.ok(close(third[2], await direct(' named Max. He was sad.', false)));
  assert.ok(close(second[1], await direct(' named Max. He', false)));
});

test('cached scoring stays exact when ids already cached change: rows roll back to their snapshot, or are rebuilt', async () => {
  const promptIds = model.tokenizer.encode(PROMPT, { addBos: true });
  const direct = async (response: string) => {
    const ids = model.tokenizer.encode(PROMPT + response, { addBos: true });
    return (await model.score!([{ prefix: promptIds, continuation: ids.slice(promptIds.length) }]))[0].total;
  };
  const row = (response: string) => ({ prompt: PROMPT, response, finishReason: null });
  const scorer = await CachedResponseScorer.open(model, PROMPT, 2);
  const rounds = [
    [' named Max', ' who l'],
    // row 1: " l" is tokenized differently inside " liked", so it resumes from its snapshot
    [' named Max and his friend', ' who liked'],
    // row 0 no longer extends even its snapshot (" named Max"): rebuilt from scratch
    [' who is big', ' who liked to run'],
  ];
  for (const [r, responses] of rounds.entries()) {
    const scores = await scorer.score(responses.map(row));
    for (const [i, response] of responses.entries())
      assert.ok(
        close(scores[i], await direct(response)),
        `round ${r} row ${i}: ${scores[i]} vs ${await direct(response)}`,
      );
  }
  assert.equal(scorer.rollbacks, 1);
  assert.equal(scorer.rebuilds, 1);
  scorer.close();
});

test('finished beams keep competing with a frozen score and fill K rows when kept', async () => {
  // a short budget makes all rows finish in the same round; with EOS-prone prompts some finish early
  const r = await weakToStrongSearch(model, pair, 'The end.', {
    ...sampling,
    maxNewTokens: 30,
    beams: 2,
    successors: 3,
    chunkLength: 3,
    seed: 9,
  });
  assert.ok(
    r.candidates!.every((c) => c.finishReason !== null),
    'the search ends when every kept beam is finished',
  );
  const best = Math.max(...r.candidates!.map((c) => c.score));
  assert.ok(close(r.score!, best));
  const copies = r.candidates!.filter((c) => c.text === r.text).length;
  assert.ok(copies >= 1);
});

test('a large model that can only sample text is steered through text (small models re-tokenize)', async () => {
  const blackBox = textOnly(model);
  const r = await weakToStrongSearch(blackBox, pair, PROMPT, {
    ...sampling,
    beams: 2,
    successors: 2,
    chunkLength: 6,
    seed: 2,
  });
  assert.ok(r.text.length > 0);
  assert.deepEqual(r.tokens, []);
  const rescore = await scoreChecked(
    logRatioScorer(pair),
    r.candidates!.map((c) => ({ prompt: PROMPT, response: c.text, finishReason: c.finishReason })),
  );
  r.candidates!.forEach((c, i) => assert.ok(close(c.score, rescore[i]), `${c.score} vs ${rescore[i]}`));
  assert.ok(r.usage.large.processedTokens > 0 && r.usage['tuned+untuned'].processedTokens > 0);
});

test('a large model with a different vocabulary works for W2S (chunks cross as text)', async () => {
  const other = permutedVocabulary(model);
  const plain = await sampleResponse(model, PROMPT, { ...sampling, seed: 4 });
  const permuted = await sampleResponse(other, PROMPT, { ...sampling, seed: 4 });
  assert.equal(permuted.text, plain.text, 'the wrapper only renames ids');
  assert.notDeepEqual(permuted.tokens, plain.tokens);
  const r = await weakToStrongSearch(other, pair, PROMPT, {
    ...sampling,
    beams: 2,
    successors: 2,
    chunkLength: 5,
    seed: 4,
  });
  const direct = await weakToStrongSearch(model, pair, PROMPT, {
    ...sampling,
    beams: 2,
    successors: 2,
    chunkLength: 5,
    seed: 4,
  });
  assert.equal(r.text, direct.text);
  assert.ok(close(r.score!, direct.score!));
});

test('bad input: prompts longer than a context, bad W/K/L, a scorer returning NaN', async () => {
  const long = 'Once upon a time there was a dog. '.repeat(120);
  await assert.rejects(
    weakToStrongSearch(model, pair, long, sampling),
    (e: unknown) => e instanceof AlignkitError && /context of 512/.test(e.message),
  );
  await assert.rejects(bestOfN(model, long, { ...sampling, n: 2, scorer: logRatioScorer(pair) }), /context of 512/);
  // the small models see a longer prompt than the large one
  const longFormat = { ...pair, tunedFormat: `${long}{prompt}` };
  await assert.rejects(weakToStrongSearch(model, longFormat, PROMPT, sampling), /context of 512/);
  await assert.rejects(weakToStrongSearch(model, pair, PROMPT, { ...sampling, beams: 0 }), /beam width W/);
  await assert.rejects(weakToStrongSearch(model, pair, PROMPT, { ...sampling, chunkLength: 2.5 }), /chunk length L/);
  const nan: Scorer = { name: 'nan-rm', score: async (items) => items.map(() => NaN) };
  await assert.rejects(
    bestOfN(model, PROMPT, { ...sampling, n: 2, scorer: nan }),
    (e: unknown) => e instanceof AlignkitError && e.kind === 'numeric' && /nan-rm/.test(e.message),
  );
});

test('small-model tokens per generated token stay constant as responses grow (no re-scoring of prefixes)', async () => {
  const perToken = async (maxNewTokens: number, scoring: 'cached' | 'rescore') => {
    const r = await weakToStrongSearch(
      model,
      { tuned: small, untuned: small, tunedFormat: 'Happy. {prompt}' },
      'Once upon a time',
      { temperature: 1, maxNewTokens, beams: 2, successors: 2, chunkLength: 4, seed: 1, scoring },
    );
    return r.usage['tuned+untuned'].processedTokens / r.usage.large.processedTokens;
  };
  const short = await perToken(24, 'cached'),
    long = await perToken(96, 'cached');
  const shortRescore = await perToken(24, 'rescore'),
    longRescore = await perToken(96, 'rescore');
  assert.ok(long < short * 1.5, `cached: ${short.toFixed(2)} → ${long.toFixed(2)} tokens per generated token`);
  assert.ok(longRescore > shortRescore * 2, `rescore grows: ${shortRescore.toFixed(2)} → ${longRescore.toFixed(2)}`);
});
