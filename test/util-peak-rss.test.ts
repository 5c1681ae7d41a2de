import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { peakRssBytes } from '../src/util/peak-rss.ts';
import { peakRssFigure } from '../src/util/bench-figure.ts';

const module = fileURLToPath(new URL('../src/util/peak-rss.ts', import.meta.url));

test(
  "peakRssBytes: a child's peak is its own, not the peak of the parent that started it",
  { skip: process.platform !== 'linux' && 'Linux only (/proc)' },
  () => {
    // a parent holding 400 MB: resourceUsage().maxRSS in its child starts from that
    const held = Buffer.alloc(400e6, 1);
    const child = spawnSync(
      process.execPath,
      [
        '--import',
        'tsx',
        '-e',
        `import('${module}').then((m) => console.log(m.peakRssBytes(), process.resourceUsage().maxRSS * 1024))`,
      ],
      { encoding: 'utf8' },
    );
    assert.equal(child.status, 0, child.stderr);
    const [own, inherited] = child.stdout.trim().split(' ').map(Number);
    assert.ok(inherited > 400e6, `maxRSS ${inherited} (the inherited peak this guards against)`);
    assert.ok(own > 10e6 && own < 300e6, `the child's own peak: ${own} bytes`);
    assert.ok(peakRssBytes() > 400e6 && held[0] === 1);
  },
);

test('peakRssFigure: MB, the budget rounded to MB, and a ratio above 1 only within the budget', () => {
  const within = peakRssFigure('m: peak RSS', 1_500e6, { name: '1.2× bytes + 400 MB', bytes: 1_800.4e6 });
  assert.deepEqual(within, {
    name: 'm: peak RSS',
    value: 1500,
    unit: 'MB',
    reference: { name: '1.2× bytes + 400 MB', value: 1800, ratio: 1_800.4e6 / 1_500e6 },
  });
  assert.ok(peakRssFigure('over', 2e9, { name: 'b', bytes: 1e9 }).reference!.ratio < 1);
});
