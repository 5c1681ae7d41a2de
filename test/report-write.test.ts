import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { writeReport } from '../src/report/write-report.ts';
import { AlignkitError } from '../src/errors.ts';
import { RunDir } from '../src/run/run-dir.ts';
import { sampleConfig, steeringSummary, trainingSummary } from './helpers/report-samples.ts';
import { ALIGNKIT } from './helpers/alignkit-cli.ts';

const root = mkdtempSync(join(tmpdir(), 'alignkit-report-'));
after(() => rmSync(root, { recursive: true, force: true }));

function runFolder(name: string, files: Record<string, string>): string {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  for (const [file, text] of Object.entries(files)) writeFileSync(join(dir, file), text);
  return dir;
}

function throwsAlignkit(fn: () => unknown, kind: string, message: RegExp) {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof AlignkitError, String(e));
    assert.equal(e.kind, kind);
    assert.match(e.message, message);
    return true;
  });
}

test('writeReport renders report.html from a RunDir and leaves no temp files', () => {
  const run = RunDir.create(join(root, 'steer-1'));
  run.writeConfig(sampleConfig);
  run.writeSummary(steeringSummary);
  const out = writeReport(run.dir);
  assert.equal(out, join(run.dir, 'report.html'));
  const html = readFileSync(out, 'utf8');
  assert.match(html, /Controlled sentiment/);
  assert.match(html, /run steer-1/);
  assert.deepEqual(readdirSync(run.dir).sort(), ['config.json', 'report.html', 'summary.json']);
  writeFileSync(join(run.dir, 'summary.json'), JSON.stringify(trainingSummary));
  writeReport(run.dir);
  assert.match(readFileSync(out, 'utf8'), /DPO on the small model/, 'regenerating replaces the old report');
});

test('a run without config.json still gets a report', () => {
  const dir = runFolder('no-config', { 'summary.json': JSON.stringify(trainingSummary) });
  assert.match(readFileSync(writeReport(dir), 'utf8'), /No config.json in the run folder/);
});

test('errors name the file, the line or the field', () => {
  throwsAlignkit(() => writeReport(join(root, 'nope')), 'input', /nope: no such run folder/);
  const empty = runFolder('empty', {});
  throwsAlignkit(() => writeReport(empty), 'input', /empty\/summary.json: missing/);
  const broken = runFolder('broken', { 'summary.json': '{"kind": "x",\n"title": "t",\n"tables": [] oops\n}' });
  throwsAlignkit(() => writeReport(broken), 'format', /broken\/summary.json, line 3: not valid JSON/);
  const torn = runFolder('torn', { 'summary.json': '{"kind": "x",\n"title": "t",\n"tab' });
  throwsAlignkit(() => writeReport(torn), 'format', /torn\/summary.json, line 3: not valid JSON/);
  const wrongType = runFolder('wrong-type', {
    'summary.json': JSON.stringify({
      kind: 'x',
      title: 't',
      tables: [],
      plots: [{ type: 'pie', title: 'p', series: [] }],
    }),
  });
  throwsAlignkit(
    () => writeReport(wrongType),
    'format',
    /summary.json, field "plots\[0\].type": expected one of "line", "scatter", "bar", "radar", "heatmap", got "pie"/,
  );
  const badPoint = runFolder('bad-point', {
    'summary.json': JSON.stringify({
      kind: 'x',
      title: 't',
      tables: [],
      plots: [
        {
          type: 'line',
          title: 'p',
          series: [
            {
              name: 's',
              points: [
                [1, 2],
                [3, 'high'],
              ],
            },
          ],
        },
      ],
    }),
  });
  throwsAlignkit(
    () => writeReport(badPoint),
    'format',
    /field "plots\[0\].series\[0\].points\[1\]\[1\]": expected a number or null, got "high"/,
  );
  const noTables = runFolder('no-tables', { 'summary.json': JSON.stringify({ kind: 'x', title: 't', plots: [] }) });
  throwsAlignkit(() => writeReport(noTables), 'format', /field "tables": expected an array, got nothing/);
  const badCell = runFolder('bad-cell', {
    'summary.json': JSON.stringify({
      kind: 'x',
      title: 't',
      tables: [{ title: 't', columns: ['a'], rows: [[{}]] }],
      plots: [],
    }),
  });
  throwsAlignkit(
    () => writeReport(badCell),
    'format',
    /field "tables\[0\].rows\[0\]\[0\]": expected a number, string or null, got an object/,
  );
  const badConfig = runFolder('bad-config', {
    'summary.json': JSON.stringify(steeringSummary),
    'config.json': '[1, 2',
  });
  throwsAlignkit(() => writeReport(badConfig), 'format', /bad-config\/config.json, line 1: not valid JSON/);
  assert.equal(existsSync(join(badConfig, 'report.html')), false, 'no report written on error');
});

test('alignkit report regenerates each run and writes a comparison; bad input exits 1 with one line', () => {
  const a = runFolder('cli/a', {
    'summary.json': JSON.stringify(steeringSummary),
    'config.json': JSON.stringify(sampleConfig),
  });
  const b = runFolder('cli/b', {
    'summary.json': JSON.stringify(steeringSummary),
    'config.json': JSON.stringify({ ...sampleConfig, seed: 8 }),
  });
  const cli = (...args: string[]) =>
    spawnSync(process.execPath, [...ALIGNKIT, 'report', ...args], { encoding: 'utf8' });
  const ok = cli(a, b);
  assert.equal(ok.status, 0, ok.stderr);
  assert.match(
    ok.stdout,
    /report: .*cli\/a\/report.html\nreport: .*cli\/b\/report.html\ncomparison: .*cli\/compare.html\n/,
  );
  assert.ok(existsSync(join(a, 'report.html')) && existsSync(join(b, 'report.html')));
  assert.match(readFileSync(join(root, 'cli', 'compare.html'), 'utf8'), /Comparison of 2 runs/);
  const out = join(root, 'elsewhere', 'cmp.html');
  assert.equal(cli(a, b, '--out', out).status, 0);
  assert.match(readFileSync(out, 'utf8'), /href="..\/cli\/a\/report.html"/);
  const bad = cli(a, join(root, 'missing'));
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /^alignkit report: .*missing: no such run folder[^\n]*\n$/);
  const none = cli();
  assert.equal(none.status, 1);
  assert.match(none.stderr, /expected at least one run folder/);
});
