import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readHfDirectory } from '../src/models/hf-directory.ts';
import { readLocalCheckpoint } from '../src/lm/load.ts';
import { readJsonl } from '../src/util/jsonl.ts';
import { loadPreferenceData } from '../src/train/data/load-preferences.ts';
import { modpoMargins } from '../src/train/modpo-sweep.ts';
import { modpoPairLoss } from '../src/train/modpo-loss.ts';
import { parseWeights, type ObjectiveWeights } from '../src/train/objective-weights.ts';
import { openReward } from '../src/train/reward-spec.ts';
import type { PairMargins } from '../src/train/modpo-loss.ts';

import { lengthRegularizedLoss } from '../src/train/length-regularized.ts';
import { STORIES, STORIES_TOKENIZER } from './helpers/model-wrappers.ts';
import { happySadPairs, tinyStories, writeJsonl } from './helpers/stories-data.ts';
import { loopParts } from './helpers/preference-fixtures.ts';
import { run as cli } from '../src/cli/main.ts';
import { ALIGNKIT } from './helpers/alignkit-cli.ts';

const trainCli = (argv: readonly string[]) => cli(['train', ...argv]);
const trainModpo = (argv: readonly string[]) => cli(['train', 'modpo', ...argv]);

const sgd = { optimizer: 'sgd', lr: '0.05', steps: '2', 'batch-size': '4', 'max-length': '128' };

function tempDir(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'alignkit-modpo-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function happySadFile(dir: string, count = 8): string {
  return writeJsonl(join(dir, 'pairs.jsonl'), happySadPairs(tinyStories().slice(0, count), 3));
}

async function trainJob(
  dir: string,
  name: string,
  data: string,
  modpo?: { weights: ObjectiveWeights; margins: PairMargins[] },
  flags: Record<string, string> = sgd,
) {
  const parts = loopParts(join(dir, name), flags);
  await parts.pool.dispose();
  return parts.trainer({
    policy: STORIES,
    reference: STORIES,
    data,
    out: join(dir, name),
    beta: 0.1,
    seed: 1,
    resume: false,
    ...(modpo ? { modpo } : {}),
  });
}

const weightsOf = (modelDir: string) => readHfDirectory(modelDir).weights;

async function sentimentMargins(data: string): Promise<PairMargins[]> {
  const parts = loopParts('', {});
  try {
    const policy = await parts.pool.load(STORIES);
    const sentiment = await openReward('sentiment', {
      load: parts.pool.load,
      policyTokenizer: policy.tokenizer,
      beta: 0.1,
    });
    return await modpoMargins({ file: data, maxLength: 128 }, policy, [sentiment], {});
  } finally {
    await parts.pool.dispose();
  }
}

test('MODPO with w_k = 1 and zero margin weight trains exactly the DPO model (same weights, bit for bit)', async (t) => {
  const dir = tempDir(t);
  const data = happySadFile(dir);
  const margins = await sentimentMargins(data);
  assert.ok(
    margins.some((m) => m.chosen[0] !== m.rejected[0]),
    'the margin model has opinions',
  );
  const dpo = await trainJob(dir, 'dpo', data);
  const alone = await trainJob(dir, 'modpo-1', data, {
    weights: parseWeights('1', 0),
    margins: margins.map(() => ({ chosen: [], rejected: [] })),
  });
  const zeroWeight = await trainJob(dir, 'modpo-1-0', data, { weights: parseWeights('1,0', 1), margins });
  const reference = weightsOf(dpo.checkpoint);
  for (const other of [alone, zeroWeight]) {
    const w = weightsOf(other.checkpoint);
    for (const [name, tensor] of reference) assert.deepEqual(w.get(name)!.data, tensor.data, name);
    assert.equal(other.metrics!.loss, dpo.metrics!.loss);
  }
  // and training did move the weights
  const start = readLocalCheckpoint(STORIES, STORIES_TOKENIZER).weights;
  assert.ok([...reference].some(([name, tensor]) => tensor.data.some((v, i) => v !== start.get(name)!.data[i])));
});

test('margins reach the training graph with the right sign: the first-step loss is the MODPO formula over the margins', async (t) => {
  const dir = tempDir(t);
  const data = happySadFile(dir);
  const margins = await sentimentMargins(data);
  const weights = parseWeights('0.5,0.5', 1);
  await trainJob(dir, 'modpo', data, { weights, margins }, { ...sgd, steps: '1', 'batch-size': '8' });
  const first = readJsonl<Record<string, number | string>>(join(dir, 'modpo', 'metrics.jsonl'))
    .map((r) => r.value)
    .find((r) => r.split === 'train' && r.step === 1)!;
  // at step 1 the policy is the reference, so h = 0 and z = −(w_{-k}/w_k)·Δm: the sentiment model prefers the happy chosen endings
  const zeroH = { policyChosen: 0, policyRejected: 0, refChosen: 0, refRejected: 0 };
  const expected = margins.reduce((a, m) => a + modpoPairLoss(0.1, weights, zeroH, m).loss, 0) / margins.length;
  const flipped =
    margins.reduce(
      (a, m) => a + modpoPairLoss(0.1, weights, zeroH, { chosen: m.rejected, rejected: m.chosen }).loss,
      0,
    ) / margins.length;
  assert.ok(Math.abs((first.loss as number) - expected) < 1e-4, `loss ${first.loss} vs ${expected}`);
  assert.ok(expected > Math.LN2 && flipped < Math.LN2, 'a flipped sign would give a loss below ln 2 here');
  assert.ok(Math.abs((first.loss as number) - flipped) > 0.05);
});

test('train modpo CLI: margins cached by model + data, bad weights and margin references are one-line errors', async (t) => {
  const dir = tempDir(t);
  const data = happySadFile(dir);
  const cache = join(dir, 'cache');
  const base = [
    '--model',
    STORIES,
    '--tokenizer',
    STORIES_TOKENIZER,
    '--data',
    data,
    '--margin-cache',
    cache,
    ...Object.entries(sgd).flatMap(([k, v]) => [`--${k}`, v]),
    '--quiet',
  ];
  // an implicit reward margin (stories260K against itself: all zero) is cached; the rule margin is not
  assert.equal(
    await trainModpo([
      ...base,
      '--out',
      join(dir, 'a'),
      '--weights',
      '0.7,0.2,0.1',
      '--margin-models',
      `dpo:${STORIES},length`,
    ]),
    0,
  );
  const files = readdirSync(cache);
  assert.equal(files.length, 1);
  const cached = readFileSync(join(cache, files[0]), 'utf8').trim().split('\n');
  assert.equal(cached.length, 1 + 8, 'a header and one line per pair');
  assert.equal(
    await trainModpo([
      ...base,
      '--out',
      join(dir, 'b'),
      '--weights',
      '0.5,0.3,0.2',
      '--margin-models',
      `dpo:${STORIES},length`,
    ]),
    0,
  );
  assert.deepEqual(readdirSync(cache), files, 'the second run reads the same cache file');
  const config = JSON.parse(readFileSync(join(dir, 'b', 'config.json'), 'utf8'));
  assert.deepEqual([config.objective, config.weights, config.scale], ['modpo', [0.5, 0.3, 0.2], 0.2]);

  const cli = (args: string[]) =>
    spawnSync(process.execPath, [...ALIGNKIT, 'train', 'modpo', ...args], { encoding: 'utf8' });
  const bad = cli([...base, '--out', join(dir, 'c'), '--weights', '0.6,0.6', '--margin-models', 'length']);
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /^alignkit train modpo: field "weights": weights must sum to 1 .*0\.6,0\.6 = 1\.2\n$/);
  const count = cli([...base, '--out', join(dir, 'c'), '--weights', '0.6,0.4', '--margin-models', 'length,sentiment']);
  assert.match(count.stderr, /expected 3 weights .* 2 margin models given\), got 2/);
  const missing = cli([
    ...base,
    '--out',
    join(dir, 'c'),
    '--weights',
    '0.6,0.4',
    '--margin-models',
    'dpo:/no/such/model',
  ]);
  assert.match(missing.stderr, /model not found.*field "margin-models"|field "margin-models".*model not found/);
  assert.equal(
    execFileSync(process.execPath, [...ALIGNKIT, 'train', '--help'], { encoding: 'utf8' }).includes('modpo'),
    true,
  );
});

test('the margins follow the pairs in file order, whatever the trainer truncates', async (t) => {
  const dir = tempDir(t);
  const data = happySadFile(dir, 5);
  const margins = await sentimentMargins(data);
  const parts = loopParts('', {});
  const policy = await parts.pool.load(STORIES);
  const { pairs } = loadPreferenceData(data, policy.tokenizer, { maxLength: 16 });
  await parts.pool.dispose();
  assert.equal(margins.length, pairs.length);
  assert.ok(
    pairs.some((p) => p.truncated),
    'some pairs are cut to 16 tokens',
  );
  const sentiment = await openReward('sentiment', {
    load: async () => {
      throw new Error('unused');
    },
    policyTokenizer: policy.tokenizer,
    beta: 0.1,
  });
  const direct = await sentiment.scorer.score(
    pairs.map((p) => ({ prompt: p.text!.prompt, response: p.text!.chosen, finishReason: 'eos' })),
  );
  assert.deepEqual(
    margins.map((m) => m.chosen[0]),
    direct,
  );
});

test('train dpo --length-alpha: the first-step loss is −log σ(α·(|y_w| − |y_l|)) over the policy-token lengths', async (t) => {
  const dir = tempDir(t);
  const data = happySadFile(dir);
  const out = join(dir, 'lr-dpo');
  const alpha = 0.05;
  assert.equal(
    await trainCli([
      'dpo',
      '--model',
      STORIES,
      '--tokenizer',
      STORIES_TOKENIZER,
      '--data',
      data,
      '--out',
      out,
      '--length-alpha',
      String(alpha),
      '--steps',
      '1',
      '--batch-size',
      '8',
      '--optimizer',
      'sgd',
      '--lr',
      '0',
      '--max-length',
      '128',
      '--quiet',
    ]),
    0,
  );
  const first = readJsonl<Record<string, number | string>>(join(out, 'metrics.jsonl'))
    .map((r) => r.value)
    .find((r) => r.split === 'train' && r.step === 1)!;
  const policy = readLocalCheckpoint(STORIES, STORIES_TOKENIZER);
  const { pairs } = loadPreferenceData(data, policy.tokenizer, { maxLength: 128 });
  const loss = (sign: number) =>
    pairs.reduce(
      (a, p) => a + lengthRegularizedLoss(0.1, sign * alpha, 0, p.chosenIds.length, p.rejectedIds.length).loss,
      0,
    ) / pairs.length;
  assert.ok(pairs.some((p) => p.chosenIds.length !== p.rejectedIds.length));
  assert.ok(Math.abs((first.loss as number) - loss(1)) < 1e-5, `${first.loss} vs ${loss(1)}`);
  assert.ok(Math.abs(loss(1) - loss(-1)) > 0.01, 'the flipped sign would give another loss');
  assert.equal(JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')).lengthAlpha, alpha);
  await assert.rejects(
    trainCli([
      'dpo',
      '--model',
      STORIES,
      '--tokenizer',
      STORIES_TOKENIZER,
      '--data',
      data,
      '--out',
      join(dir, 'bad'),
      '--length-alpha=-0.1',
      '--quiet',
    ]),
    /length-alpha.*≥ 0/,
  );
});
