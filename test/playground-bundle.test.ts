/**
 * The browser-safe core: the layers a page needs (engine, models, tokenizers, lm native, decode,
 * the sentiment rewards) bundle for browsers with no Node module in them, once the two boundary
 * modules (util/io.ts, engine/session.ts) are swapped for their browser sides; and those browser
 * sides offer everything their Node sides do.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BROWSER_SWAPS, bundleForBrowser } from '../src/playground/bundle.ts';
import * as nodeIo from '../src/util/io.ts';
import * as browserIo from '../src/util/io-browser.ts';
import * as nodeSession from '../src/engine/session.ts';
import * as webSession from '../src/engine/session-web.ts';

test('the browser core bundles with no node: import, no Node built-in and no onnxruntime-node', async () => {
  const bundle = await bundleForBrowser('src/playground/browser-core.ts');
  assert.deepEqual(bundle.nodeImports, []);
  for (const [node, browser] of Object.entries(BROWSER_SWAPS)) {
    assert.ok(bundle.modules.includes(`src/${browser}`), `the bundle holds src/${browser}`);
    assert.ok(!bundle.modules.includes(`src/${node}`), `the bundle does not hold src/${node}`);
  }
  // the layers the page needs are really in it
  for (const module of [
    'src/engine/graph.ts',
    'src/models/inference-graphs.ts',
    'src/models/safetensors.ts',
    'src/models/gguf/gguf-file.ts',
    'src/tokenizers/hf-tokenizer.ts',
    'src/lm/native/native-model.ts',
    'src/decode/weak-to-strong-search.ts',
    'src/decode/rewards.ts',
  ])
    assert.ok(bundle.modules.includes(module), `${module} is bundled`);
  assert.ok(bundle.modules.some((m) => m.startsWith('node_modules/onnxruntime-web/')));
  assert.ok(!bundle.modules.some((m) => m.includes('onnxruntime-node')));
});

test('a module that imports Node is named with its importer', async () => {
  // jsonl.ts writes run records with node:fs: not part of the browser core, so it must be caught
  const bundle = await bundleForBrowser('src/util/jsonl.ts');
  assert.ok(
    bundle.nodeImports.some((line) => /^node:fs \(imported by src\/util\/jsonl\.ts\)$/.test(line)),
    bundle.nodeImports.join('\n'),
  );
});

test('the browser sides of the boundaries export every name their Node sides do', () => {
  const missing = (node: object, browser: object) => Object.keys(node).filter((name) => !(name in browser));
  assert.deepEqual(missing(nodeIo, browserIo), []);
  // the runtime API the layers above use (the Node side also has its own internals)
  for (const name of ['GraphSession', 'int64', 'threadCount'])
    assert.ok(name in nodeSession && name in webSession, `${name} is on both sides`);
  for (const name of Object.keys(webSession).filter((n) => n in nodeSession))
    assert.equal(
      typeof (webSession as Record<string, unknown>)[name],
      typeof (nodeSession as Record<string, unknown>)[name],
      name,
    );
});

test('the browser file tree reads mounted files as node:fs would, and refuses writes', () => {
  const text = new TextEncoder().encode('{"a": 1}');
  browserIo.mountFile('/models/m/config.json', text);
  browserIo.mountFile('/models/m/weights/part.bin', new Uint8Array([1, 2, 3, 4, 5]));
  assert.equal(browserIo.existsSync('/models/m'), true);
  assert.equal(browserIo.statSync('/models/m').isDirectory(), true);
  assert.equal(browserIo.statSync('/models/m/config.json').size, text.length);
  assert.deepEqual(browserIo.readdirSync('/models/m'), ['config.json', 'weights']);
  assert.equal(browserIo.readFileSync('/models/m/config.json', 'utf8'), '{"a": 1}');
  const fd = browserIo.openSync('/models/m/weights/part.bin', 'r');
  const into = new Uint8Array(4);
  assert.equal(browserIo.readSync(fd, into, 1, 3, 3), 2);
  assert.deepEqual([...into], [0, 4, 5, 0]);
  browserIo.closeSync(fd);
  assert.throws(() => browserIo.statSync('/models/none'), /ENOENT/);
  assert.throws(() => browserIo.writeFileSync(), /cannot be written in a web page/);
  assert.equal(browserIo.join('/a/b', '../c', 'd.json'), '/a/c/d.json');
  assert.equal(browserIo.dirname('/a/b/c.json'), '/a/b');
  assert.equal(browserIo.basename('/a/b/c.json'), 'c.json');
  browserIo.unmount('/models/m');
  assert.equal(browserIo.existsSync('/models/m/config.json'), false);
});
