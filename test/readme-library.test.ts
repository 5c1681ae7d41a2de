/**
 * The README's library examples run as written: each ```js block after a "run as written"
 * marker is saved as a module and run with `alignkit` (and its subpaths) resolved to the sources
 * (test/helpers/alignkit-from-source.mjs; test/package.test.ts runs the built package).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** The code blocks the README marks as run by this test, by marker name. */
function markedBlocks(): Map<string, string> {
  const readme = readFileSync('README.md', 'utf8');
  const blocks = new Map<string, string>();
  for (const m of readme.matchAll(
    /<!-- ([\w-]+) example: run as written by test\/readme-library\.test\.ts -->\s*```js\n([\s\S]*?)```/g,
  ))
    blocks.set(m[1], m[2]);
  return blocks;
}

// inside the repository, so that the examples' other imports (node:*, ai) resolve from its node_modules
const cache = join('node_modules', '.cache');
mkdirSync(cache, { recursive: true });

function runExample(code: string): string {
  const dir = mkdtempSync(join(cache, 'alignkit-readme-'));
  try {
    const file = join(dir, 'example.mjs');
    writeFileSync(file, code);
    const r = spawnSync(
      process.execPath,
      ['--import', 'tsx', '--import', './test/helpers/alignkit-from-source.mjs', file],
      { encoding: 'utf8' },
    );
    assert.equal(r.status, 0, r.stderr);
    return r.stdout;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('the README marks the library example and the AI SDK example', () => {
  assert.deepEqual([...markedBlocks().keys()], ['library', 'ai-sdk']);
});

test(
  'the library example (DPO-tune the small model, steer the large one with W2S) prints text',
  { timeout: 180_000 },
  () => {
    const out = runExample(markedBlocks().get('library')!);
    assert.ok(out.trim().length > 20, JSON.stringify(out));
  },
);

test(
  'the AI SDK example prints generated text, its finish reason and token count, then streams',
  { timeout: 120_000 },
  () => {
    const out = runExample(markedBlocks().get('ai-sdk')!);
    assert.match(out, /(stop|length) \d+\n\s*\S/);
  },
);
