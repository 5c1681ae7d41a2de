import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ALIGNKIT } from './helpers/alignkit-cli.ts';

test('the main job runs on the embedded models from a clean cache, prints the table and writes the report', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'alignkit-demo-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const out = execFileSync(
    'node',
    [...ALIGNKIT, 'demo', '--prompts', '8', '--out', join(dir, 'run'), '--cache-dir', join(dir, 'cache')],
    { encoding: 'utf8' },
  );
  assert.match(out, /Methods at matched compute/);
  for (const m of ['sample', 'bon', 'eft', 'w2s', 'ivg']) assert.match(out, new RegExp(`^${m}\\s+-?\\d`, 'm'));
  assert.ok(existsSync(join(dir, 'run', 'report.html')));
  const summary = JSON.parse(readFileSync(join(dir, 'run', 'summary.json'), 'utf8'));
  const gold = (m: string) => summary.metrics[`gold reward: ${m}`] as number;
  // the value-guided search moves the gold reward far above plain sampling even on 8 prompts
  assert.ok(gold('ivg') > gold('sample') + 0.2, `ivg ${gold('ivg')} vs sample ${gold('sample')}`);
  assert.ok(gold('eft') > gold('sample'), `eft ${gold('eft')} vs sample ${gold('sample')}`);
  // a second run reuses what the first trained
  const again = execFileSync(
    'node',
    [...ALIGNKIT, 'demo', '--prompts', '2', '--out', join(dir, 'run2'), '--cache-dir', join(dir, 'cache')],
    { encoding: 'utf8' },
  );
  assert.match(again, /from cache[\s\S]*\byes\b/);
});
