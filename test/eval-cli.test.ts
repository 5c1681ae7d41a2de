import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SHARED, tempDir } from './helpers/eval-fixtures.ts';
import { ALIGNKIT } from './helpers/alignkit-cli.ts';

const alignkit = (...args: string[]) =>
  spawnSync(process.execPath, [...ALIGNKIT, 'eval', ...args], { encoding: 'utf8' });
const STORIES = SHARED('stories260K', 'stories260K.bin');
const ADVBENCH = SHARED('advbench', 'harmful_behaviors.csv');

test('bad input: a dataset line with a missing field, an unknown benchmark, a missing flag — one line, exit 1', (t) => {
  const dir = tempDir(t);
  const data = join(dir, 'mt.jsonl');
  writeFileSync(
    data,
    '{"task":"GR","id":1,"history":[{"user":"q","bot":"a"}]}\n{"task":"GR","history":[{"user":"q","bot":"a"}]}\n',
  );
  const r = alignkit(
    'mt-bench-101',
    '--data',
    data,
    '--responses',
    data,
    '--judge',
    'http://127.0.0.1:9/v1#j',
    '--out',
    join(dir, 'out'),
  );
  assert.equal(r.status, 1);
  assert.equal(r.stderr.trim(), `alignkit eval mt-bench-101: ${data}, line 2, field "id": expected an integer id`);
  const u = alignkit('mmlu', '--out', join(dir, 'x'));
  assert.equal(u.status, 1);
  assert.match(u.stderr, /unknown benchmark "mmlu"/);
  const m = alignkit('winrate', '--data', data);
  assert.equal(m.status, 1);
  assert.match(m.stderr, /missing required flag --out/);
});

test('conceptmath from a responses file: tables printed, summary and report written; --resume refuses other flags', (t) => {
  const dir = tempDir(t);
  const outputs = join(dir, 'outputs.jsonl');
  writeFileSync(
    outputs,
    [
      {
        idx: 1,
        cate0: 'Calculate',
        cate1: 'Add',
        cate2: 'Sums',
        question: '2+3?',
        answer: '5',
        grade: 'element_en',
        response: 'The answer is 5.',
      },
      {
        idx: 2,
        cate0: 'Calculate',
        cate1: 'Add',
        cate2: 'Sums',
        question: '2+4?',
        answer: 6,
        grade: 'element_en',
        response: 'The answer is 7.',
      },
      {
        idx: 1,
        cate0: '几何',
        cate1: '圆',
        cate2: '周长',
        question: '半径1的圆周长？',
        answer: '6.28',
        grade: 'middle_zh',
        response: '周长为2π，因此，答案是2π。',
      },
    ]
      .map((r) => JSON.stringify(r))
      .join('\n'),
  );
  const out = join(dir, 'out');
  const r = alignkit('conceptmath', '--responses', outputs, '--out', out);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /Accuracy per system/);
  assert.match(r.stdout, /Elementary-EN\s+2\s+1\s+50/);
  assert.match(r.stdout, /Middle-ZH\s+1\s+1\s+100/);
  const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
  assert.equal(summary.kind, 'eval conceptmath');
  assert.ok(existsSync(join(out, 'report.html')));
  const again = alignkit('conceptmath', '--responses', outputs, '--out', out, '--resume', '--prompt', 'fs');
  assert.equal(again.status, 1);
  assert.match(again.stderr, /--resume with a different --prompt/);
  const rerun = alignkit('conceptmath', '--responses', outputs, '--out', out);
  assert.match(rerun.stderr, /already holds a run; pass --resume/);
  // --data is read, not ignored; an empty responses file is an error, not "items: 0"
  const missing = alignkit(
    'conceptmath',
    '--responses',
    outputs,
    '--data',
    join(dir, 'nope.jsonl'),
    '--out',
    join(dir, 'o2'),
  );
  assert.equal(missing.status, 1);
  assert.match(missing.stderr, /nope\.jsonl: file not found/);
  writeFileSync(join(dir, 'empty.jsonl'), '');
  const empty = alignkit('conceptmath', '--responses', join(dir, 'empty.jsonl'), '--out', join(dir, 'o3'));
  assert.equal(empty.status, 1);
  assert.match(empty.stderr, /empty\.jsonl: no responses in the file/);
});

test('safety on AdvBench with stories260K: attack × defense table with the refusal classifier', (t) => {
  const dir = tempDir(t);
  const out = join(dir, 'out');
  const r = alignkit(
    'safety',
    '--model',
    STORIES,
    '--data',
    ADVBENCH,
    '--limit',
    '3',
    '--attacks',
    'none,prefix-injection',
    '--defenses',
    'none,system-prompt',
    '--max-new-tokens',
    '12',
    '--out',
    out,
  );
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /Harmful rate % \(attack × defense\)/);
  const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
  assert.deepEqual(summary.tables[0].columns, ['attack', 'none', 'system-prompt']);
  assert.equal(summary.tables[0].rows.length, 2);
  const results = readFileSync(join(out, 'results.jsonl'), 'utf8').trim().split('\n');
  assert.equal(results.length, 3 * 2 * 2);
  assert.equal(summary.metrics.classifier, 'refusal-strings');
});
