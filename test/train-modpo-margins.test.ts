import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadModel } from '../src/lm/load.ts';
import { ModelPool } from '../src/run/model-pool.ts';
import { openReward, type RewardContext, type RewardSource } from '../src/train/reward-spec.ts';
import { marginCacheKey, marginsFor, pairMargins, type PairText } from '../src/train/margin-cache.ts';
import { rewardModelScorer, sentimentReward } from '../src/decode/rewards.ts';
import { requireScalarHead } from '../src/decode/scalar-head.ts';

import { AlignkitError } from '../src/errors.ts';
import { STORIES, STORIES_TOKENIZER, permutedVocabulary } from './helpers/model-wrappers.ts';
import { writePerturbedStories } from './helpers/preference-fixtures.ts';
import { run as cli } from '../src/cli/main.ts';

const trainCli = (argv: readonly string[]) => cli(['train', ...argv]);

const pairs: PairText[] = [
  {
    prompt: 'Once upon a time',
    chosen: ' there was a happy cat. The cat played all day.',
    rejected: ' a dog was sad.',
  },
  {
    prompt: 'Lily went to the park',
    chosen: ' and she smiled at the sun.',
    rejected: ' and she cried because it was dark and cold and she lost her ball.',
  },
  {
    prompt: 'Tom had a red ball',
    chosen: '. He loved it.',
    rejected: '. One day the ball broke and Tom was very sad.',
  },
];

function tempDir(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'alignkit-modpo-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const context = (
  pool: ModelPool,
  tokenizerOf: RewardContext['policyTokenizer'],
  extra: Partial<RewardContext> = {},
): RewardContext => ({
  load: pool.load,
  policyTokenizer: tokenizerOf,
  beta: 0.1,
  sftRef: STORIES,
  ...extra,
});

test('rule and lexicon margins: length counts policy tokens, sentiment is the lexicon score; neither is cached', async (t) => {
  const dir = tempDir(t);
  const pool = new ModelPool({ tokenizer: STORIES_TOKENIZER });
  t.after(() => pool.dispose());
  const policy = await pool.load(STORIES);
  const ctx = context(pool, policy.tokenizer);
  const length = await openReward('length', ctx);
  const m = await marginsFor(length, pairs, { cacheDir: dir });
  m.forEach((x, i) => {
    assert.equal(
      x.chosen,
      -(
        policy.tokenizer.encode(pairs[i].prompt + pairs[i].chosen).length -
        policy.tokenizer.encode(pairs[i].prompt).length
      ),
    );
    assert.ok(x.chosen < 0 && x.rejected < 0);
  });
  assert.ok(m[1].chosen > m[1].rejected, 'the shorter response has the higher (less negative) length reward');
  const sentiment = await openReward('sentiment', ctx);
  const s = await marginsFor(sentiment, pairs, { cacheDir: dir });
  const direct = await sentimentReward().score(
    pairs.map((p) => ({ prompt: p.prompt, response: p.chosen, finishReason: 'eos' })),
  );
  assert.deepEqual(
    s.map((x) => x.chosen),
    direct,
  );
  assert.ok(s[0].chosen > s[0].rejected);
  assert.equal(readdirSync(dir).length, 0, 'cheap rules are recomputed, not cached');
});

test('implicit DPO margins: β·(log π_φ − log π_sft) with EOS, cached on disk, resumed after a kill', async (t) => {
  const dir = tempDir(t);
  const tuned = writePerturbedStories(dir);
  const pool = new ModelPool({ tokenizer: STORIES_TOKENIZER });
  t.after(() => pool.dispose());
  const sft = await pool.load(STORIES);
  const phi = await loadModel(tuned);
  t.after(() => phi.dispose());
  const source = await openReward(`dpo:${tuned}`, context(pool, sft.tokenizer));
  const cacheDir = join(dir, 'cache');

  // expected values from the models directly: prompt ids (with BOS), response ids + EOS
  const expected = async (prompt: string, response: string) => {
    const promptIds = sft.tokenizer.encode(prompt);
    const all = sft.tokenizer.encode(prompt + response);
    const item = {
      prefix: all.slice(0, promptIds.length),
      continuation: [...all.slice(promptIds.length), sft.tokenizer.eosId!],
    };
    const [a] = await phi.score!([item]);
    const [b] = await sft.score!([item]);
    return 0.1 * (a.total - b.total);
  };

  // a kill after the first batch: the partial file keeps what was scored
  let calls = 0;
  const dying: RewardSource = {
    ...source,
    scorer: {
      name: 'dying',
      score: async (items) => {
        if (calls++ > 0) throw new Error('killed');
        return source.scorer.score(items);
      },
    },
  };
  await assert.rejects(marginsFor(dying, pairs, { cacheDir, batchSize: 1 }), /killed/);
  const key = marginCacheKey(source.fingerprint!, pairs);
  assert.ok(existsSync(join(cacheDir, `${key}.partial.jsonl`)));

  let scoredItems = 0;
  const counting: RewardSource = {
    ...source,
    scorer: {
      name: 'counting',
      score: async (items) => {
        scoredItems += items.length;
        return source.scorer.score(items);
      },
    },
  };
  const m = await marginsFor(counting, pairs, { cacheDir, batchSize: 1 });
  assert.equal(scoredItems, 4, 'the resumed run scores only the two pairs the killed one had not finished');
  assert.ok(existsSync(join(cacheDir, `${key}.jsonl`)) && !existsSync(join(cacheDir, `${key}.partial.jsonl`)));
  for (let i = 0; i < pairs.length; i++) {
    assert.ok(Math.abs(m[i].chosen - (await expected(pairs[i].prompt, pairs[i].chosen))) < 1e-4);
    assert.ok(Math.abs(m[i].rejected - (await expected(pairs[i].prompt, pairs[i].rejected))) < 1e-4);
  }
  assert.ok(
    m.some((x) => Math.abs(x.chosen) > 1e-3),
    'the perturbed model gives non-zero implicit rewards',
  );

  // a complete cache is read back without scoring anything
  const never: RewardSource = {
    ...source,
    scorer: {
      name: 'never',
      score: async () => {
        throw new Error('scored again');
      },
    },
  };
  assert.deepEqual(await marginsFor(never, pairs, { cacheDir }), m);
  // other data, or a retrained margin model at the same path, is another key
  assert.notEqual(marginCacheKey(source.fingerprint!, pairs.slice(1)), key);
  const later = new Date(Date.now() + 5000);
  utimesSync(join(tuned, 'model.safetensors'), later, later);
  const retrained = await openReward(
    `dpo:${tuned}`,
    context(new ModelPool({ tokenizer: STORIES_TOKENIZER }), sft.tokenizer),
  );
  assert.notEqual(retrained.fingerprint, source.fingerprint);
  // the same model as its own reference gives zero margins
  const self = await pairMargins([await openReward(`dpo:${STORIES}@${STORIES}`, context(pool, sft.tokenizer))], pairs);
  assert.ok(self.every((p) => p.chosen[0] === 0 && p.rejected[0] === 0));
});

test('a margin model with a different tokenizer is handled through text: same margins as the original vocabulary', async (t) => {
  const dir = tempDir(t);
  const tuned = writePerturbedStories(dir);
  const plain = new ModelPool({ tokenizer: STORIES_TOKENIZER });
  // "perm:" models see the same text through another token→id map
  const permuted = new ModelPool({ tokenizer: STORIES_TOKENIZER }, async (ref, o) =>
    ref.startsWith('perm:') ? permutedVocabulary(await loadModel(ref.slice(5), o), 7) : loadModel(ref, o),
  );
  t.after(async () => {
    await plain.dispose();
    await permuted.dispose();
  });
  const policy = await plain.load(STORIES);
  const a = await pairMargins([await openReward(`dpo:${tuned}@${STORIES}`, context(plain, policy.tokenizer))], pairs);
  const other = await openReward(`dpo:perm:${tuned}@perm:${STORIES}`, context(permuted, policy.tokenizer));
  const b = await pairMargins([other], pairs);
  const tok = (await permuted.load(`perm:${STORIES}`)).tokenizer;
  assert.notDeepEqual(
    tok.encode(pairs[0].chosen),
    policy.tokenizer.encode(pairs[0].chosen),
    'the margin model really has other ids',
  );
  a.forEach((p, i) => {
    assert.ok(Math.abs(p.chosen[0] - b[i].chosen[0]) < 1e-4);
    assert.ok(Math.abs(p.rejected[0] - b[i].rejected[0]) < 1e-4);
  });
});

test('bad margin references name the field and what was expected', async (t) => {
  const pool = new ModelPool({ tokenizer: STORIES_TOKENIZER });
  t.after(() => pool.dispose());
  const policy = await pool.load(STORIES);
  const ctx = context(pool, policy.tokenizer, { sftRef: undefined });
  await assert.rejects(openReward('', ctx, 'margin-models'), /margin-models.*empty reward reference/);
  await assert.rejects(openReward(`dpo:${STORIES}`, ctx, 'margin-models'), /needs a reference model/);
  await assert.rejects(
    openReward('dpo:/nonexistent/model', { ...ctx, sftRef: STORIES }, 'margin-models'),
    (e: unknown) =>
      e instanceof AlignkitError &&
      e.kind === 'input' &&
      /model not found/.test(e.message) &&
      e.where.field === 'margin-models',
  );
  await assert.rejects(
    openReward(`rm:${STORIES}`, ctx),
    (e: unknown) => e instanceof AlignkitError && e.kind === 'capability' && /no scalar head/.test(e.message),
  );
});

test('a Bradley-Terry reward model as a margin: rm:PATH, or a bare path whose model has a scalar head', async (t) => {
  const dir = tempDir(t);
  const data = join(dir, 'pairs.jsonl');
  writeFileSync(data, pairs.map((p) => JSON.stringify(p)).join('\n') + '\n');
  assert.equal(
    await trainCli([
      'rm',
      '--model',
      STORIES,
      '--tokenizer',
      STORIES_TOKENIZER,
      '--data',
      data,
      '--out',
      join(dir, 'rm'),
      '--steps',
      '2',
      '--batch-size',
      '3',
      '--lr',
      '1e-3',
      '--quiet',
    ]),
    0,
  );
  const rmDir = join(dir, 'rm', 'model');
  const pool = new ModelPool({ tokenizer: STORIES_TOKENIZER });
  t.after(() => pool.dispose());
  const policy = await pool.load(STORIES);
  const ctx = context(pool, policy.tokenizer);
  const explicit = await openReward(`rm:${rmDir}`, ctx);
  const bare = await openReward(rmDir, ctx);
  assert.equal(bare.name, explicit.name);
  assert.match(explicit.fingerprint!, /^rm\|/);
  const m = await marginsFor(explicit, pairs, { cacheDir: join(dir, 'cache') });
  const rm = await loadModel(rmDir);
  t.after(() => rm.dispose());
  const direct = await rewardModelScorer(requireScalarHead(rm, 'reward')).score(
    pairs.map((p) => ({ prompt: p.prompt, response: p.chosen, finishReason: 'eos' })),
  );
  m.forEach((x, i) => assert.ok(Math.abs(x.chosen - direct[i]) < 1e-5));
  assert.ok(new Set(m.flatMap((x) => [x.chosen, x.rejected])).size > 1, 'the head gives different rewards');
});
