/**
 * `alignkit playground --out DIR`: the static files (page, bundle, onnxruntime-web's WebAssembly,
 * the shipped models and their manifest), the refusals, and the loopback server's headers.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildPlayground, ORT_FILES } from '../src/playground/build-playground.ts';
import { playgroundContents } from '../src/playground/playground-models.ts';
import { servePlayground } from '../src/playground/serve-playground.ts';
import type { PlaygroundManifest } from '../src/playground/manifest.ts';

const root = mkdtempSync(join(tmpdir(), 'alignkit-playground-build-'));
test.after(() => rmSync(root, { recursive: true, force: true }));

test('the playground builds into static files with the embedded models, and serves them cross-origin isolated', async () => {
  const contents = playgroundContents({ embeddedDir: 'embedded', mainJobCacheDir: join(root, 'no-cache') });
  assert.deepEqual(
    contents.models.map((m) => m.name),
    ['large', 'small'],
  );
  assert.match(contents.notes.join('\n'), /no tuned small model/);
  assert.equal(contents.prompts.length, 8);
  const site = join(root, 'site');
  const built = await buildPlayground(site, contents);
  for (const file of ['index.html', 'main.js', 'models.json', ...ORT_FILES.map((f) => `ort/${f}`)])
    assert.ok(existsSync(join(site, file)), file);
  const manifest = JSON.parse(readFileSync(join(site, 'models.json'), 'utf8')) as PlaygroundManifest;
  assert.deepEqual(manifest.roles, { large: 'large', base: 'large', untuned: 'small' });
  for (const m of manifest.models)
    for (const f of m.files)
      assert.equal(statSync(join(site, 'models', m.name, f)).size, statSync(join('embedded', m.name, f)).size);
  // index.html, main.js, models.json, onnxruntime-web's files and the models' files: nothing else
  const modelFiles = manifest.models.reduce((a, m) => a + m.files.length, 0);
  assert.equal(built.files, 3 + ORT_FILES.length + modelFiles);
  assert.ok(built.bytes > 10e6);

  const served = await servePlayground(site);
  try {
    const page = await fetch(served.url);
    assert.equal(page.status, 200);
    assert.equal(page.headers.get('cross-origin-opener-policy'), 'same-origin');
    assert.equal(page.headers.get('cross-origin-embedder-policy'), 'require-corp');
    assert.match(await page.text(), /<script type="module" src="main.js">/);
    const wasm = await fetch(`${served.url}ort/${ORT_FILES[1]}`);
    assert.equal(wasm.headers.get('content-type'), 'application/wasm');
    await wasm.arrayBuffer();
    assert.equal((await fetch(`${served.url}..%2f..%2fpackage.json`)).status, 404);
    assert.equal((await fetch(`${served.url}nothing.js`)).status, 404);
  } finally {
    await served.close();
  }
});

test('a role named by --model takes that model; bad --model values and folders are refused by name', async () => {
  const contents = playgroundContents({ embeddedDir: 'embedded', extra: ['tuned=embedded/small'] });
  assert.equal(contents.roles.tuned, 'tuned');
  assert.ok(!contents.notes.some((n) => n.includes('no tuned')));
  assert.throws(
    () => playgroundContents({ embeddedDir: 'embedded', extra: ['tuned'] }),
    /--model expects NAME=DIR, got "tuned"/,
  );
  const folder = join(root, 'not-a-playground');
  mkdirSync(folder);
  writeFileSync(join(folder, 'notes.txt'), 'mine');
  await assert.rejects(
    buildPlayground(folder, contents),
    /not-a-playground: refusing to replace a non-empty folder that is not a built playground/,
  );
  assert.equal(readFileSync(join(folder, 'notes.txt'), 'utf8'), 'mine');
  await assert.rejects(
    buildPlayground(join(root, 'x'), { ...contents, models: [{ name: 'large', dir: 'src' }] }),
    /src, field "--model": not an HF model directory/,
  );
  await assert.rejects(
    buildPlayground(join(root, 'x'), { ...contents, models: [{ name: 'my model', dir: 'embedded/large' }] }),
    /model name "my model" may hold only letters, digits, - and _/,
  );
});
