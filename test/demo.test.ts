/**
 * The main job (`npm start`, `alignkit demo`) end to end on the embedded models: a short run from a
 * clean cache and its repeat from the cache (the same tables), and the default run, whose printed
 * tables must be the README's (results/main-job.json, rendered by `npm run readme`).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ALIGNKIT } from './helpers/alignkit-cli.ts';
import { formatTable } from '../src/cli/run-output.ts';
import { readResults, regenerateReadme } from '../scripts/readme-results.ts';

const demo = (...args: string[]) => execFileSync('node', [...ALIGNKIT, 'demo', ...args], { encoding: 'utf8' });
/** what the run printed, without the last line (the time and whether the small models came from the cache) */
const tablesOf = (out: string) => out.trim().split('\n').slice(0, -1).join('\n');

test('the main job on 2 draws from a clean cache: tables, report with the examples first, and the same tables again from the cache', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'alignkit-demo-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const args = ['--draws', '2', '--prompts', '4', '--cache-dir', join(dir, 'cache')];
  const out = demo(...args, '--out', join(dir, 'run'));
  assert.match(out, /Methods at matched compute/);
  assert.match(out, /Reward vs compute/);
  assert.match(out, /2 of 2 tuned now/);
  for (const m of ['plain sampling', 'Best-of-16', 'EFT', 'weak-to-strong search', 'IVG'])
    assert.match(out, new RegExp(`^${m}.*\\s0\\.\\d+\\s+0\\.\\d+\\s`, 'm'), m);
  const summary = JSON.parse(readFileSync(join(dir, 'run', 'summary.json'), 'utf8'));
  const gold = (m: string) => summary.metrics[`gold reward: ${m}`] as number;
  // the value-guided search moves the gold reward far above plain sampling even on 2 × 4 prompts
  assert.ok(gold('ivg') > gold('sample') + 0.2, `ivg ${gold('ivg')} vs sample ${gold('sample')}`);
  // the report shows the example responses before the plots, and the tables after them
  const html = readFileSync(join(dir, 'run', 'report.html'), 'utf8');
  const at = (s: string) => html.indexOf(s);
  assert.ok(at('Example responses') > 0 && at('Example responses') < at('<svg'), 'examples before the plots');
  assert.ok(at('Gold reward vs compute') < at('Methods at matched compute'), 'plots before the other tables');
  assert.ok(at('Gold reward vs closeness to the base model') > 0);
  // the rows of results.jsonl: every draw × prompt × method run
  const rows = readFileSync(join(dir, 'run', 'results.jsonl'), 'utf8')
    .trim()
    .split('\n');
  assert.equal(rows.length, 2 * 4 * 9);

  const again = demo(...args, '--out', join(dir, 'run2'));
  assert.match(again, /all from cache/);
  assert.equal(tablesOf(again), tablesOf(out), 'a repeat from the cache prints the same tables');
});

test("npm start's tables are the README's (results/main-job.json, rendered by npm run readme)", (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'alignkit-demo-readme-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const results = readResults().get('main-job');
  assert.ok(results, 'results/main-job.json is missing');
  const readme = readFileSync('README.md', 'utf8');
  assert.equal(regenerateReadme(readme, readResults()), readme, 'README.md is out of date: run `npm run readme`');
  // what `npm start` runs, from a clean cache
  const out = demo('--out', join(dir, 'run'), '--cache-dir', join(dir, 'cache'));
  for (const table of results.tables)
    assert.ok(
      out.includes(formatTable(table)),
      `npm start printed\n${out}\nbut the README (results/main-job.json) has\n${formatTable(table)}\n(re-record: npm run readme -- --record main-job RUN_DIR "npm start")`,
    );
  assert.ok(existsSync(join(dir, 'run', 'report.html')));
});
