import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, truncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import {
  RepresentationStore,
  RepresentationWriter,
  type StoreSettings,
  type StoredItem,
} from '../src/probe/representation-store.ts';

const hidden = 5;
const settings = (over: Partial<StoreSettings> = {}): StoreSettings => ({
  dtype: 'float32',
  layers: [0, 2],
  groups: ['prompt', 'after-4'],
  model: 'toy',
  attributes: [{ name: 'length', task: 'regression' }],
  settings: { maxNewTokens: 16, seed: 1 },
  ...over,
});
const state = (item: number, layer: number, group: number) =>
  Float32Array.from({ length: hidden }, (_, j) => item * 100 + layer * 10 + group + j / 8);
const item = (i: number): Omit<StoredItem, 'index'> => ({
  id: `q${i}`,
  line: i + 1,
  prompt: `prompt ${i}`,
  promptChars: 8,
  promptTokens: 3,
  response: 'r'.repeat(i),
  responseTokens: i,
  finishReason: 'eos',
  attributes: { length: i },
});
const statesOf = (i: number, s: StoreSettings) =>
  Object.fromEntries(s.groups.map((g, gi) => [g, s.layers.map((l) => state(i, l, gi))]));

function tempDir(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'probe-store-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function writeItems(dir: string, s: StoreSettings, from: number, to: number, resume = false): RepresentationWriter {
  const { writer } = RepresentationWriter.open(dir, s, { resume });
  for (let i = from; i < to; i++) writer.append(item(i), statesOf(i, s));
  return writer;
}

for (const dtype of ['float32', 'float16'] as const) {
  test(`round trip of items and states (${dtype})`, async (t) => {
    const dir = tempDir(t);
    const s = settings({ dtype });
    writeItems(dir, s, 0, 4);
    const store = RepresentationStore.open(dir);
    assert.equal(store.meta.hiddenSize, hidden);
    assert.deepEqual(
      store.items().map((i) => [i.index, i.id, i.attributes.length]),
      [
        [0, 'q0', 0],
        [1, 'q1', 1],
        [2, 'q2', 2],
        [3, 'q3', 3],
      ],
    );
    const streamed: StoredItem[] = [];
    for await (const i of store.streamItems()) streamed.push(i);
    assert.deepEqual(streamed, store.items());
    for (const [gi, group] of s.groups.entries())
      for (const layer of s.layers) {
        const m = store.readLayer(group, layer);
        assert.equal(m.rows, 4);
        for (let i = 0; i < 4; i++) {
          const expected = state(i, layer, gi);
          for (let j = 0; j < hidden; j++) {
            const got = m.data[i * hidden + j];
            // float16 keeps 11 significant bits
            assert.ok(
              Math.abs(got - expected[j]) <= (dtype === 'float16' ? Math.abs(expected[j]) * 2 ** -11 : 0),
              `${group} L${layer} item ${i}[${j}]: ${got} vs ${expected[j]}`,
            );
          }
        }
      }
    const bytesPerRow = hidden * (dtype === 'float16' ? 2 : 4);
    assert.equal(statSync(join(dir, 'states', 'prompt', 'layer-2.bin')).size, 4 * bytesPerRow);
  });
}

test('resume after a kill mid-write: the torn index line and extra state rows are dropped', (t) => {
  const dir = tempDir(t);
  const s = settings();
  writeItems(dir, s, 0, 3);
  // a kill while item 3 was being written: some of its rows landed, its index line is torn
  appendFileSync(join(dir, 'states', 'prompt', 'layer-0.bin'), new Uint8Array(new Float32Array(hidden).buffer));
  appendFileSync(join(dir, 'states', 'prompt', 'layer-2.bin'), new Uint8Array(7));
  appendFileSync(join(dir, 'results.jsonl'), '{"index":3,"id":"q3","prom');

  const { writer, finished } = RepresentationWriter.open(dir, s, { resume: true });
  assert.deepEqual(
    finished.map((f) => f.id),
    ['q0', 'q1', 'q2'],
  );
  for (let i = 3; i < 5; i++) writer.append(item(i), statesOf(i, s));

  const store = RepresentationStore.open(dir);
  assert.deepEqual(
    store.items().map((i) => i.index),
    [0, 1, 2, 3, 4],
  );
  assert.ok(
    readFileSync(join(dir, 'results.jsonl'), 'utf8')
      .split('\n')
      .filter(Boolean)
      .every((l) => JSON.parse(l)),
  );
  for (const layer of s.layers) {
    const m = store.readLayer('prompt', layer);
    for (let i = 0; i < 5; i++) assert.equal(m.data[i * hidden], state(i, layer, 0)[0], `item ${i} layer ${layer}`);
  }
});

test('a store that already holds items needs --resume, with the same settings', (t) => {
  const dir = tempDir(t);
  writeItems(dir, settings(), 0, 2);
  assert.throws(() => RepresentationWriter.open(dir, settings()), /already holds collected items; pass --resume/);
  assert.throws(
    () => RepresentationWriter.open(dir, settings({ settings: { maxNewTokens: 32, seed: 1 } }), { resume: true }),
    /--resume with different settings: maxNewTokens was 16, now 32/,
  );
  assert.throws(
    () => RepresentationWriter.open(dir, settings({ layers: [0, 1] }), { resume: true }),
    /layers was \[0,2\], now \[0,1\]/,
  );
});

test('a state file shorter than the index is reported as damage', (t) => {
  const dir = tempDir(t);
  writeItems(dir, settings(), 0, 3);
  truncateSync(join(dir, 'states', 'after-4', 'layer-2.bin'), hidden * 4);
  assert.throws(
    () => RepresentationWriter.open(dir, settings(), { resume: true }),
    /layer-2\.bin: holds 1 rows but the index lists 3 items; the store is damaged/,
  );
  assert.throws(() => RepresentationStore.open(dir).readLayer('after-4', 2), /holds 1 rows but 3 items are indexed/);
  assert.throws(() => RepresentationStore.open(dir).readLayer('random-init', 2), /no "random-init" states/);
  assert.throws(() => RepresentationStore.open(join(dir, 'states')), /not a representation store/);
});

test('a reader ignores the torn last line of a store still being written', (t) => {
  const dir = tempDir(t);
  writeItems(dir, settings(), 0, 2);
  appendFileSync(join(dir, 'results.jsonl'), '{"index":2,');
  const store = RepresentationStore.open(dir);
  assert.equal(store.items().length, 2);
  assert.equal(store.readLayer('prompt', 0).rows, 2);
});

test('a kill while the first item was written: its rows are dropped on resume, not shifted into row 0', (t) => {
  const dir = tempDir(t);
  const s = settings();
  // item 0's rows landed (every group and layer), its index line did not
  const { writer } = RepresentationWriter.open(dir, s);
  assert.equal(writer.items, 0);
  for (const [g, group] of s.groups.entries())
    for (const layer of s.layers) {
      const file = join(dir, 'states', group, `layer-${layer}.bin`);
      mkdirSync(dirname(file), { recursive: true });
      appendFileSync(file, new Uint8Array(Float32Array.from({ length: hidden }, () => -1 - g).buffer));
    }
  writeItems(dir, s, 0, 3, true);
  const store = RepresentationStore.open(dir);
  for (const [g, group] of s.groups.entries())
    for (const layer of s.layers) {
      const m = store.readLayer(group, layer);
      assert.equal(m.rows, 3);
      for (let i = 0; i < 3; i++) assert.equal(m.data[i * hidden], state(i, layer, g)[0], `${group} item ${i}`);
    }
});

test('a store whose states hold more rows than its index lists is refused on read', (t) => {
  const dir = tempDir(t);
  writeItems(dir, settings(), 0, 2);
  appendFileSync(join(dir, 'states', 'prompt', 'layer-0.bin'), new Uint8Array(new Float32Array(hidden).buffer));
  assert.throws(
    () => RepresentationStore.open(dir).readLayer('prompt', 0),
    /layer-0\.bin: holds 3 rows but 2 items are indexed; a collection is still running or was killed mid-item/,
  );
  assert.equal(RepresentationStore.open(dir).readLayer('prompt', 2).rows, 2);
});
