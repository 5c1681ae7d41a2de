/**
 * A write that fails part way (a full disk) names the file and leaves nothing half-written. The
 * fault is real: the writes run in a child process whose file-size limit (`ulimit -f`) makes the
 * kernel refuse them part way, as a full disk does.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const SKIP = process.platform === 'linux' ? false : 'needs bash ulimit -f (Linux)';

test('a write the file system refuses part way names the file and leaves the old content', { skip: SKIP }, (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'alignkit-full-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const json = join(dir, 'summary.json');
  const jsonl = join(dir, 'results.jsonl');
  writeFileSync(json, '{"old": true}\n');
  writeFileSync(jsonl, '{"line": 1}\n');
  const script = join(dir, 'write.ts');
  const src = (file: string) => pathToFileURL(resolve(file)).href;
  writeFileSync(
    script,
    `import { writeJsonAtomic } from ${JSON.stringify(src('src/util/atomic-write.ts'))};
import { appendJsonl } from ${JSON.stringify(src('src/util/jsonl.ts'))};
process.on('SIGXFSZ', () => {}); // the kernel's signal; the write then fails with EFBIG
const big = { text: 'x'.repeat(200_000) };
for (const write of [() => writeJsonAtomic(${JSON.stringify(json)}, big), () => appendJsonl(${JSON.stringify(jsonl)}, big)]) {
  try { write(); console.log('written'); } catch (e) { console.log(e.name + ': ' + e.message); }
}
`,
  );
  // 64 blocks: room for the small files, not for 200 kB
  const run = spawnSync('bash', ['-c', `ulimit -f 64 && exec "${process.execPath}" --import tsx "${script}"`], {
    encoding: 'utf8',
  });
  assert.equal(run.status, 0, run.stderr);
  const [atomic, appended] = run.stdout.trim().split('\n');
  assert.equal(atomic, `AlignkitError: ${json}: cannot write the file: the file would exceed the size limit (EFBIG)`);
  assert.equal(
    appended,
    `AlignkitError: ${jsonl}: cannot write the file: the file would exceed the size limit (EFBIG)`,
  );
  assert.equal(readFileSync(json, 'utf8'), '{"old": true}\n');
  assert.equal(readFileSync(jsonl, 'utf8'), '{"line": 1}\n', 'the part that was written is cut back off');
  assert.deepEqual(readdirSync(dir).sort(), ['results.jsonl', 'summary.json', 'write.ts'], 'no temporary file is left');
});
