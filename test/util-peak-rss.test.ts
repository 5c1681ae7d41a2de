import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { peakRssBytes } from '../src/util/peak-rss.ts';

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
