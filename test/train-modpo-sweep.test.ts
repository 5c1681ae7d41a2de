import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { validateSummary } from '../src/report/validate-summary.ts';
import type { MemberRecord } from '../src/train/modpo-sweep.ts';
import { STORIES, STORIES_TOKENIZER } from './helpers/model-wrappers.ts';
import { happySadPairs, tinyStories, writeJsonl } from './helpers/stories-data.ts';
import { storyPrompts, writePerturbedStories } from './helpers/preference-fixtures.ts';
import { run as cli } from '../src/cli/main.ts';

const sweep = (argv: readonly string[]) => cli(['sweep', ...argv]);

function tempDir(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'alignkit-sweep-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const records = (out: string) =>
  readFileSync(join(out, 'results.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as MemberRecord);

test('sweep modpo: trains the family, evaluates SFT, the margin model and every member on every objective, summary with the front; resumes', async (t) => {
  const dir = tempDir(t);
  const data = writeJsonl(join(dir, 'pairs.jsonl'), happySadPairs(tinyStories().slice(0, 8), 3));
  const prompts = join(dir, 'eval.txt');
  writeFileSync(prompts, storyPrompts(2, 50).join('\n') + '\n');
  const margin = writePerturbedStories(dir);
  const out = join(dir, 'sweep');
  const args = [
    'modpo',
    '--model',
    STORIES,
    '--tokenizer',
    STORIES_TOKENIZER,
    '--data',
    data,
    '--margin-models',
    `dpo:${margin}`,
    '--weights',
    '0:1:0.5',
    '--objectives',
    'sentiment,length',
    '--eval-prompts',
    prompts,
    '--samples-per-prompt',
    '2',
    '--max-new-tokens',
    '12',
    '--out',
    out,
    '--steps',
    '2',
    '--batch-size',
    '4',
    '--lr',
    '1e-3',
    '--max-length',
    '128',
    '--quiet',
  ];
  assert.equal(await sweep(args), 0);

  const first = records(out);
  assert.deepEqual(
    first.map((r) => r.key),
    ['sft', `margin:${margin}`, 'w=0.5,0.5', 'w=1,0'],
  );
  assert.deepEqual(
    first.map((r) => r.kind),
    ['sft', 'margin-model', 'modpo', 'modpo'],
  );
  for (const r of first) {
    assert.equal(r.objectives.length, 2);
    assert.ok(r.objectives.every(Number.isFinite));
    assert.equal(r.responses, 4);
    // the length objective of sampled responses is minus their sampled token count
    assert.equal(r.objectives[1], -r.meanLength);
  }
  assert.ok(existsSync(join(out, 'members', 'w-0.5_0.5', 'model', 'config.json')));
  const summary = validateSummary(JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')));
  assert.equal(summary.kind, 'sweep modpo');
  assert.equal(summary.tables[0].rows.length, 4);
  assert.ok(
    summary.tables[0].rows.some((row) => row.includes('yes')),
    'some member is on the front',
  );
  const scatter = summary.plots.find((p) => p.type === 'scatter')!;
  assert.match(scatter.title, /Pareto front: sentiment-vader vs length/);
  assert.equal(scatter.series.length, 5, 'one series per policy and the front line');
  assert.ok('τ(w_k, sentiment-vader)' in summary.metrics!);
  assert.ok(existsSync(join(out, 'report.html')));
  const cacheFiles = join(out, 'margin-cache');
  assert.ok(existsSync(cacheFiles));

  // a kill after the first member: its record is kept, the second member is trained and evaluated again
  writeFileSync(
    join(out, 'results.jsonl'),
    readFileSync(join(out, 'results.jsonl'), 'utf8').trim().split('\n').slice(0, 3).join('\n') + '\n',
  );
  assert.equal(await sweep([...args, '--resume']), 0);
  const resumed = records(out);
  assert.deepEqual(resumed.slice(0, 3), first.slice(0, 3));
  assert.deepEqual(
    resumed[3].objectives,
    first[3].objectives,
    'the retrained member (resumed from its finished checkpoint) scores the same',
  );
  // resuming with other settings is refused; without --resume the folder is refused
  await assert.rejects(
    sweep([...args.map((a) => (a === 'sentiment,length' ? 'length,sentiment' : a)), '--resume']),
    /--resume with a different --objectives/,
  );
  await assert.rejects(sweep(args), /already holds a run/);
});

test('sweep modpo: bad input', async (t) => {
  const dir = tempDir(t);
  const data = writeJsonl(join(dir, 'pairs.jsonl'), happySadPairs(tinyStories().slice(0, 2), 3));
  const prompts = join(dir, 'eval.txt');
  writeFileSync(prompts, 'Once upon a time\n');
  const base = [
    'modpo',
    '--model',
    STORIES,
    '--tokenizer',
    STORIES_TOKENIZER,
    '--data',
    data,
    '--eval-prompts',
    prompts,
    '--out',
    join(dir, 'o'),
    '--quiet',
  ];
  await assert.rejects(
    sweep([...base, '--margin-models', 'length', '--weights', '0.2,0.7', '--objectives', 'sentiment,length']),
    /weights must sum to 1/,
  );
  await assert.rejects(
    sweep([...base, '--margin-models', 'length,sentiment', '--weights', '0:1:0.5', '--objectives', 'sentiment,length']),
    /range sweeps two objectives/,
  );
  await assert.rejects(
    sweep([...base, '--margin-models', 'length', '--weights', '0:1:0.5', '--objectives', 'sentiment']),
    /at least two objectives/,
  );
  await assert.rejects(
    sweep([...base, '--margin-models', 'length', '--weights', '0:1:0.5', '--objectives', 'sentiment,rm:' + STORIES]),
    /no scalar head/,
  );
  await assert.rejects(sweep(['pareto']), /unknown family "pareto"/);
});
