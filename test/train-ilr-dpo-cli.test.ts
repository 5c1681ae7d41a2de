import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { validateSummary } from '../src/report/validate-summary.ts';
import { STORIES, STORIES_TOKENIZER } from './helpers/model-wrappers.ts';

import { storyPrompts } from './helpers/preference-fixtures.ts';
import { run as cli } from '../src/cli/main.ts';
import { ALIGNKIT } from './helpers/alignkit-cli.ts';

const train = (argv: readonly string[]) => cli(['train', ...argv]);

function tempDir(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'alignkit-ilr-cli-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('train ilr-dpo CLI: a run writes the per-iteration records, TRL data, summary and report; bad input is one line', async (t) => {
  const dir = tempDir(t);
  const prompts = join(dir, 'prompts.txt');
  writeFileSync(prompts, storyPrompts(3).join('\n') + '\n');
  const out = join(dir, 'run');
  const args = [
    'ilr-dpo',
    '--model',
    STORIES,
    '--tokenizer',
    STORIES_TOKENIZER,
    '--prompts',
    prompts,
    '--reward',
    'sentiment',
    '--iterations',
    '1',
    '--samples-per-prompt',
    '3',
    '--max-new-tokens',
    '10',
    '--length-alpha',
    '0.01',
    '--steps',
    '1',
    '--batch-size',
    '2',
    '--lr',
    '1e-3',
    '--max-length',
    '64',
    '--out',
    out,
    '--quiet',
  ];
  assert.equal(await train(args), 0);
  const records = readFileSync(join(out, 'results.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  assert.deepEqual(
    records.map((r) => r.iteration),
    [0, 1],
  );
  assert.ok(existsSync(join(out, 'iter-1', 'preferences.jsonl')));
  const summary = validateSummary(JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')));
  assert.equal(summary.kind, 'train ilr-dpo');
  assert.match(summary.title, /iLR-DPO \(α = 0\.01\): sentiment-vader over 1 iterations/);
  assert.deepEqual(
    summary.tables[0].rows.map((r) => r[0]),
    [0, 1],
  );
  assert.ok(summary.plots.some((p) => p.title === 'Response length by iteration'));
  assert.ok(existsSync(join(out, 'report.html')));
  const config = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'));
  assert.equal(config.lengthAlpha, 0.01);
  // more iterations on --resume extend the loop; another reward is refused
  assert.equal(await train([...args.map((a, i) => (args[i - 1] === '--iterations' ? '2' : a)), '--resume']), 0);
  assert.equal(readFileSync(join(out, 'results.jsonl'), 'utf8').trim().split('\n').length, 3);
  await assert.rejects(
    train([...args.map((a) => (a === 'sentiment' ? 'afinn' : a)), '--resume']),
    /--resume with a different --reward/,
  );

  const cli = (extra: string[], drop: string[] = []) => {
    const argv = [
      ...ALIGNKIT,
      'train',
      ...args.filter((a, i) => !drop.includes(a) && !drop.includes(args[i - 1])),
      ...extra,
    ];
    return spawnSync(
      process.execPath,
      argv.map((a) => (a === out ? join(dir, 'other') : a)),
      { encoding: 'utf8' },
    );
  };
  const cases: [string[], string[], RegExp][] = [
    [['--samples-per-prompt', '1'], ['--samples-per-prompt'], /--samples-per-prompt expects an integer ≥ 2, got "1"/],
    [[], ['--reward'], /missing required flag --reward/],
    [['--length-alpha=-1'], ['--length-alpha'], /--length-alpha expects a number ≥ 0, got "-1"/],
    [['--data', prompts], [], /unknown flag --data \(see alignkit train ilr-dpo --help\)/],
    [['--iterate', STORIES], [], /--iterate continues a loop .* with --resume/],
    [['--reward', 'rm:' + STORIES], ['--reward'], /no scalar head/],
  ];
  for (const [extra, drop, pattern] of cases) {
    const r = cli(extra, drop);
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, pattern);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  }
});
