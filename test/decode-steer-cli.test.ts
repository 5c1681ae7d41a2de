import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

import type { SteerRecord } from '../src/decode/steer-run.ts';
import { STORIES, STORIES_TOKENIZER } from './helpers/model-wrappers.ts';
import { readLocalCheckpoint } from '../src/lm/load.ts';
import { writeRewardModel } from '../src/train/model-directory.ts';
import { createRng } from '../src/util/random.ts';
import { run as cli } from '../src/cli/main.ts';
import { ALIGNKIT } from './helpers/alignkit-cli.ts';

const run = (argv: readonly string[]) => cli(['steer', ...argv]);

const exec = promisify(execFile);

function tempDir(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'alignkit-steer-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const readRecords = (dir: string): SteerRecord[] =>
  readFileSync(join(dir, 'results.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));

function writePrompts(dir: string, prompts: string[]): string {
  const file = join(dir, 'prompts.jsonl');
  writeFileSync(file, prompts.map((prompt) => JSON.stringify({ prompt })).join('\n') + '\n');
  return file;
}

const PROMPTS = ['Once upon a time, there was a dog', 'Lily and Ben went to the park', 'One day, a little bird'];

const common = (prompts: string, out: string) => [
  '--large',
  STORIES,
  '--tuned',
  STORIES,
  '--untuned',
  STORIES,
  '--tuned-template',
  'Lily was happy and smiled. {prompt}',
  '--reward',
  'vader',
  '--prompts',
  prompts,
  '--out',
  out,
  '--max-new-tokens',
  '24',
  '--w',
  '2',
  '--k',
  '2',
  '--l',
  '4',
  '--seed',
  '5',
];

test('steer --compare writes one result per prompt and method, a summary with plots, a report; --resume finishes a killed run identically', async (t) => {
  const dir = tempDir(t);
  const prompts = writePrompts(dir, PROMPTS);
  const out = join(dir, 'run');
  assert.equal(await run(['--compare', 'sample,bon,eft,w2s', ...common(prompts, out)]), 0);
  const records = readRecords(out);
  assert.equal(records.length, PROMPTS.length * 4);
  assert.deepEqual(new Set(records.map((r) => r.key)).size, records.length);
  for (const r of records) {
    assert.equal(typeof r.text, 'string');
    assert.ok(typeof r.gold === 'number' && Number.isFinite(r.gold));
    assert.ok(r.processedTokens > 0 && r.seconds >= 0);
    assert.equal(
      r.processedTokens,
      Object.values(r.usage).reduce((a, u) => a + u.processedTokens, 0),
    );
    if (r.method === 'bon' || r.method === 'w2s') assert.equal(typeof r.score, 'number');
  }
  const w2s = records.filter((r) => r.method === 'w2s'),
    sample = records.filter((r) => r.method === 'sample');
  assert.ok(
    w2s.every((r, i) => r.processedTokens > sample[i].processedTokens),
    'search costs more than one sample',
  );
  const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
  assert.equal(summary.kind, 'steer');
  assert.deepEqual(
    summary.tables[0].rows.map((r: unknown[]) => r[0]),
    ['sample', 'bon', 'eft', 'w2s'],
  );
  assert.ok(summary.plots.some((p: { title: string }) => /reward vs compute/i.test(p.title)));
  assert.ok(existsSync(join(out, 'report.html')));
  const config = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'));
  assert.equal(config.seed, 5);

  // a killed run: the last two results and half of the one before are lost
  const lines = readFileSync(join(out, 'results.jsonl'), 'utf8').split('\n').filter(Boolean);
  writeFileSync(join(out, 'results.jsonl'), lines.slice(0, -3).join('\n') + '\n' + lines.at(-3)!.slice(0, 40));
  assert.equal(await run(['--compare', 'sample,bon,eft,w2s', ...common(prompts, out), '--resume']), 0);
  const resumed = readRecords(out);
  assert.equal(resumed.length, records.length);
  const strip = (r: SteerRecord) => ({ ...r, seconds: 0 });
  assert.deepEqual(resumed.map(strip), records.map(strip), 'the redone prompts give the same responses (seeded)');

  await assert.rejects(
    run(['--compare', 'sample,bon,eft,w2s', ...common(prompts, out), '--resume', '--temperature', '1']),
    /--resume with a different --temperature/,
  );
  await assert.rejects(run(['--compare', 'sample', ...common(prompts, out)]), /already holds a run/);
});

test('steer: bad input gets one clear line naming the file, line or flag', async (t) => {
  const dir = tempDir(t);
  const prompts = writePrompts(dir, ['A short prompt', 'The cat sat on the mat. '.repeat(150)]);
  await assert.rejects(
    run(['w2s', ...common(prompts, join(dir, 'a'))]),
    (e: Error) => /prompts\.jsonl, line 2/.test(e.message) && /context/.test(e.message),
  );
  await assert.rejects(run(['nope', ...common(prompts, join(dir, 'b'))]), /unknown method "nope"/);
  await assert.rejects(
    run(['w2s', '--large', STORIES, '--prompts', prompts, '--out', join(dir, 'c')]),
    /method w2s needs --tuned/,
  );
  await assert.rejects(
    run(['ivg', '--large', STORIES, '--prompts', prompts, '--out', join(dir, 'd')]),
    /method ivg needs --value/,
  );
  const broken = join(dir, 'broken.jsonl');
  writeFileSync(broken, '{"prompt": "ok"}\n{"text": "no prompt field"}\n');
  await assert.rejects(
    run(['sample', '--large', STORIES, '--prompts', broken, '--out', join(dir, 'e')]),
    /broken\.jsonl, line 2, field "prompt"/,
  );
  // through the binary: exit code 1 and a one-line message
  const r = await exec(process.execPath, [
    ...ALIGNKIT,
    'steer',
    'w2s',
    '--large',
    STORIES,
    '--prompts',
    prompts,
    '--out',
    join(dir, 'f'),
  ]).catch((e) => e);
  assert.equal(r.code, 1);
  assert.match(r.stderr.trim(), /^alignkit steer w2s: method w2s needs --tuned$/);
});

test('steer ivg and bon --bon-scorer reward with scalar-head model directories (value model, reward model)', async (t) => {
  const dir = tempDir(t);
  // a value model in the layout `alignkit train value|rm` writes: stories260K with a random scalar head
  const base = readLocalCheckpoint(STORIES, STORIES_TOKENIZER);
  const rng = createRng(7);
  base.weights.set('score.weight', {
    shape: [1, base.config.hiddenSize],
    data: Float32Array.from({ length: base.config.hiddenSize }, () => rng.normal()),
  });
  const head = join(dir, 'value-model');
  writeRewardModel(head, base);
  const prompts = writePrompts(dir, PROMPTS.slice(0, 2));
  const out = join(dir, 'run');
  const args = [
    '--large',
    STORIES,
    '--tuned',
    STORIES,
    '--untuned',
    STORIES,
    '--value',
    head,
    '--reward',
    head,
    '--bon-scorer',
    'reward',
    '--prompts',
    prompts,
    '--out',
    out,
    '--max-new-tokens',
    '16',
    '--w',
    '2',
    '--k',
    '2',
    '--l',
    '4',
  ];
  assert.equal(await run(['--compare', 'ivg,bon', ...args]), 0);
  const records = readRecords(out);
  assert.equal(records.length, 4);
  for (const r of records) {
    assert.equal(typeof r.score, 'number');
    assert.ok(
      Object.keys(r.usage).some((role) => role.includes('value') || role.includes('reward')),
      `scalar-head model tokens counted: ${Object.keys(r.usage)}`,
    );
  }
  // BoN ranked by the reward model picks the response the gold (the same model) likes best
  for (const r of records.filter((x) => x.method === 'bon')) assert.ok(Math.abs(r.score! - r.gold!) < 1e-4);
});
