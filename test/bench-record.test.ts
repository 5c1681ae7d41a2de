/** `alignkit bench --out DIR` writes DIR/summary.json: every figure with its section and the conditions of the run. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from './helpers/eval-fixtures.ts';
import { ALIGNKIT } from './helpers/alignkit-cli.ts';
import { BenchRecord, formatBenchValue, type BenchSummary } from '../src/run/bench-record.ts';
import { startConditions } from '../src/run/measurement-conditions.ts';

const bench = (...args: string[]) => spawnSync(process.execPath, [...ALIGNKIT, 'bench', ...args], { encoding: 'utf8' });
const readSummary = (dir: string) => JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8')) as BenchSummary;

test('bench --section startup --out DIR: summary.json names the section, the figures and the conditions of the run', (t) => {
  const dir = tempDir(t, 'alignkit-bench-');
  // a stories folder without the checkpoint: the section reports it as a figure without a value, at no cost
  const run = bench('--section', 'startup', '--stories', dir, '--out', join(dir, 'out'));
  assert.equal(run.status, 0, run.stderr);
  assert.match(run.stdout, /startup: CLI start-up/, 'the figures are still printed');
  const s = readSummary(join(dir, 'out'));
  assert.equal(s.kind, 'bench');
  assert.deepEqual(
    s.tables.map((table) => table.title),
    ['startup'],
  );
  assert.deepEqual(s.figures, [
    { section: 'startup', name: `stories260K (not found at ${dir}; pass --stories DIR)`, value: null, unit: '' },
  ]);
  const c = s.conditions;
  assert.equal(c.command, `alignkit bench --section startup --stories ${dir} --out ${join(dir, 'out')}`);
  assert.ok(Date.parse(c.startedAt) <= Date.parse(c.finishedAt!), `${c.startedAt} … ${c.finishedAt}`);
  assert.match(c.commit ?? '', /^[0-9a-f]{10}(\+changes)?$/);
  assert.ok(c.threads.cores >= 1 && c.threads.onnxruntime >= 1, JSON.stringify(c.threads));
  assert.ok('ALIGNKIT_THREADS' in c.threads.env);
  for (const at of [c.loadAverage.start, c.loadAverage.end!]) assert.equal(at.length, 3);
  assert.equal(c.versions.node, process.version);
  assert.match(c.versions['onnxruntime-node'] ?? '', /^\d+\.\d+\.\d+/);
  assert.ok('torch' in c.versions);
});

test('each section is added through one call; summary.json is rewritten after each, with one table per section', (t) => {
  const dir = tempDir(t, 'alignkit-bench-');
  const record = new BenchRecord(dir, startConditions('alignkit', ['bench']));
  assert.deepEqual(readSummary(dir).figures, [], 'written before any section runs');
  record.add('gateway', 'a gateway', [
    {
      name: 'tokens/s, 8 clients vs 1',
      value: 3330.4,
      unit: 'tokens/s',
      reference: { name: '1 client', value: 1490, ratio: 2.236 },
      target: '≥ 3×',
    },
  ]);
  assert.equal(readSummary(dir).figures.length, 1, 'a run cut short keeps the sections it finished');
  record.add('steering', 'weak-to-strong search', [{ name: '  EFT overhead', value: 0.0861, unit: '%' }]);
  const s = readSummary(dir);
  assert.deepEqual(
    s.figures.map((f) => [f.section, f.name]),
    [
      ['gateway', 'tokens/s, 8 clients vs 1'],
      ['steering', '  EFT overhead'],
    ],
  );
  assert.deepEqual(s.tables[0].rows, [
    ['tokens/s, 8 clients vs 1', '3,330 tokens/s', '1 client: 1,490 tokens/s', '2.24×', '≥ 3×'],
  ]);
  assert.deepEqual(s.tables[1].rows, [['EFT overhead', '0.0861 %', null, null, null]]);
  // each section's span starts where the previous one ended, the first where the run started
  assert.deepEqual(
    s.sections.map((span) => span.name),
    ['gateway', 'steering'],
  );
  assert.equal(s.sections[0].startedAt, s.conditions.startedAt);
  assert.equal(s.sections[1].startedAt, s.sections[0].finishedAt);
  assert.deepEqual(s.sections[1].loadAverage.start, s.sections[0].loadAverage.end);
  for (const span of s.sections) assert.ok(span.startedAt <= span.finishedAt && span.loadAverage.end.length === 3);
  assert.deepEqual(
    [formatBenchValue(NaN), formatBenchValue(28.84), formatBenchValue(-1234.5)],
    ['—', '28.8', '-1,234'],
  );
});

test('bench --out on a path that cannot be a folder is a one-line error naming it, before any section runs', (t) => {
  const file = join(tempDir(t, 'alignkit-bench-'), 'a-file');
  writeFileSync(file, '');
  for (const out of [file, join(file, 'below')]) {
    const run = bench('--section', 'training', '--out', out);
    assert.equal(run.status, 1);
    assert.equal(run.stdout, '', 'no section ran');
    assert.match(
      run.stderr,
      new RegExp(`^alignkit bench: --out ${out}: cannot make it a folder for summary.json \\(.+\\)\\n$`),
    );
  }
});
