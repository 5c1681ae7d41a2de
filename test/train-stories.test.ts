/**
 * Real-data checks on stories260K: SFT on TinyStories lowers held-out loss; DPO on story
 * openings with a happy (chosen) vs sad (rejected) ending raises the held-out margin and makes
 * sampled continuations happier. ALIGNKIT_LONG_TESTS=1 runs them on more data.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { loadNativeModel } from '../src/lm/load.ts';
import { readJsonl } from '../src/util/jsonl.ts';
import { STORIES, STORIES_TOKENIZER } from './helpers/model-wrappers.ts';
import { happySadPairs, longTests, tinyStories, writeJsonl } from './helpers/stories-data.ts';
import { run as cli } from '../src/cli/main.ts';

const trainCli = (argv: readonly string[]) => cli(['train', ...argv]);

const Sentiment = createRequire(import.meta.url)('sentiment');
const dir = mkdtempSync(join(tmpdir(), 'alignkit-train-stories-'));
const base = [
  '--model',
  STORIES,
  '--tokenizer',
  STORIES_TOKENIZER,
  '--max-length',
  '128',
  '--batch-size',
  '8',
  '--quiet',
];

type Row = Record<string, number | string>;
const evals = (out: string) =>
  readJsonl<Row>(join(out, 'metrics.jsonl'))
    .map((r) => r.value)
    .filter((r) => r.split === 'eval');

test('SFT on TinyStories lowers the held-out loss', async () => {
  const stories = tinyStories();
  const n = longTests ? 600 : 160;
  const data = writeJsonl(
    join(dir, 'sft.jsonl'),
    stories.slice(0, n).map((text) => ({ text })),
  );
  const held = writeJsonl(
    join(dir, 'sft-eval.jsonl'),
    stories.slice(1000, 1040).map((text) => ({ text })),
  );
  const out = join(dir, 'sft');
  assert.equal(
    await trainCli([
      'sft',
      ...base,
      '--data',
      data,
      '--eval-data',
      held,
      '--out',
      out,
      '--lr',
      '1e-3',
      '--epochs',
      '1',
      '--warmup',
      '2',
    ]),
    0,
  );
  const [before, after] = evals(out);
  assert.ok(
    (after['eval/loss'] as number) < (before['eval/loss'] as number) - 0.05,
    `held-out loss ${before['eval/loss']} → ${after['eval/loss']}`,
  );
});

test('DPO on happy vs sad endings raises the held-out margin and shifts generations toward happy', async () => {
  const stories = tinyStories();
  const n = longTests ? 400 : 120;
  const train = writeJsonl(join(dir, 'dpo.jsonl'), happySadPairs(stories.slice(0, n), 1));
  const heldPairs = happySadPairs(stories.slice(1000, 1040), 2);
  const held = writeJsonl(join(dir, 'dpo-eval.jsonl'), heldPairs);
  const out = join(dir, 'dpo');
  assert.equal(
    await trainCli([
      'dpo',
      ...base,
      '--data',
      train,
      '--eval-data',
      held,
      '--out',
      out,
      '--lr',
      '1e-3',
      '--beta',
      '0.1',
      '--epochs',
      '1',
    ]),
    0,
  );
  const [before, after] = evals(out);
  assert.equal(before['eval/rewards/margins'], 0, 'policy = reference before training: margins exactly 0');
  assert.equal(before['eval/rewards/accuracies'], 0, 'and accuracy 0 (strict >)');
  assert.ok(Math.abs((before['eval/loss'] as number) - Math.LN2) < 1e-5);
  assert.ok((after['eval/rewards/margins'] as number) > 1, `held-out margin ${after['eval/rewards/margins']}`);
  assert.ok(
    (after['eval/rewards/accuracies'] as number) >= 0.9,
    `held-out accuracy ${after['eval/rewards/accuracies']}`,
  );

  const sentiment = new Sentiment();
  const happiness = async (model: string, tokenizer?: string) => {
    const m = await loadNativeModel(model, tokenizer);
    let total = 0,
      count = 0;
    try {
      for (const p of heldPairs.slice(0, longTests ? 40 : 16)) {
        for (const s of await m.sample({ prompt: p.prompt, n: 4, maxNewTokens: 40, temperature: 1, seed: 3 })) {
          total += sentiment.analyze(s.text).comparative;
          count++;
        }
      }
    } finally {
      await m.dispose();
    }
    return total / count;
  };
  const [was, now] = [await happiness(STORIES, STORIES_TOKENIZER), await happiness(join(out, 'model'))];
  assert.ok(now > was + 0.05, `mean sentiment of sampled continuations ${was.toFixed(3)} → ${now.toFixed(3)}`);
});
