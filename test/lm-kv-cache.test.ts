import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KvCache } from '../src/lm/native/kv-cache.ts';

const cfg = { numLayers: 2, numKvHeads: 2, headDim: 3 };
const width = cfg.numLayers * 2 * cfg.numKvHeads * cfg.headDim;

/** new_kv [B, T, L·2·Hkv·hd] whose every float encodes (row, token, layer, k/v, head, d) */
function newKv(batch: number, tokens: number, first: number): Float32Array {
  const out = new Float32Array(batch * tokens * width);
  for (let b = 0; b < batch; b++)
    for (let t = 0; t < tokens; t++)
      for (let j = 0; j < width; j++) out[(b * tokens + t) * width + j] = code(b, first + t, j);
  return out;
}
const code = (row: number, token: number, j: number) => row * 10000 + token * 100 + j;

/** the floats of (layer, kind, row, head, column) in the cache */
function read(cache: KvCache, l: number, kind: 'k' | 'v', b: number, h: number, column: number): number[] {
  const at = ((b * cfg.numKvHeads + h) * cache.capacity + column) * cfg.headDim;
  return [...cache.layers[l][kind].subarray(at, at + cfg.headDim)];
}
const stored = (row: number, token: number, l: number, kind: 'k' | 'v', h: number) =>
  Array.from({ length: cfg.headDim }, (_, d) =>
    code(row, token, ((l * 2 + (kind === 'k' ? 0 : 1)) * cfg.numKvHeads + h) * cfg.headDim + d),
  );

function assertHolds(cache: KvCache, row: number, column: number, fromRow: number, token: number): void {
  for (let l = 0; l < cfg.numLayers; l++)
    for (const kind of ['k', 'v'] as const)
      for (let h = 0; h < cfg.numKvHeads; h++)
        assert.deepEqual(
          read(cache, l, kind, row, h, column),
          stored(fromRow, token, l, kind, h),
          `row ${row} column ${column} layer ${l} ${kind} head ${h}`,
        );
}

test('KV cache: appends land in their columns, growth keeps them, rows reorder, holes pack, batches join', () => {
  let cache = KvCache.empty(cfg, 2).reserve(3);
  cache.append(newKv(2, 3, 0), 3);
  assert.equal(cache.used, 3);
  for (let step = 3; step < 9; step++) {
    cache = cache.reserve(1);
    cache.append(newKv(2, 1, step), 1);
  }
  assert.equal(cache.used, 9);
  assert.ok(cache.capacity >= 9);
  for (let b = 0; b < 2; b++) for (let t = 0; t < 9; t++) assertHolds(cache, b, t, b, t);

  const reordered = cache.select([1, 1, 0]);
  assert.equal(reordered.batch, 3);
  for (let t = 0; t < 9; t++) {
    assertHolds(reordered, 0, t, 1, t);
    assertHolds(reordered, 1, t, 1, t);
    assertHolds(reordered, 2, t, 0, t);
  }

  // rows of different lengths stay packed to the left: row 0 gets two tokens, row 1 none
  const uneven = reordered.select([2, 0]).reserve(2);
  uneven.append(newKv(2, 2, 9), 2, [2, 0]);
  assert.equal(uneven.used, 11);
  assert.deepEqual([uneven.lengthOf(0), uneven.lengthOf(1)], [11, 9]);
  for (let t = 0; t < 11; t++) assertHolds(uneven, 0, t, 0, t);
  uneven.append(newKv(2, 1, 20), 1, [0, 1]);
  assertHolds(uneven, 1, 9, 1, 20);
  assert.equal(uneven.used, 11);

  const joined = KvCache.join(uneven, reordered);
  assert.equal(joined.batch, 5);
  assert.equal(joined.used, 11);
  for (let t = 0; t < 11; t++) assertHolds(joined, 0, t, 0, t);
  for (let t = 0; t < 9; t++) assertHolds(joined, 4, t, 0, t);
  assert.deepEqual(joined.dims, [5, cfg.numKvHeads, joined.capacity, cfg.headDim]);
});

test('KV cache: rows leave and join in place, keeping the buffers and the other rows', () => {
  const cache = KvCache.empty(cfg, 3).reserve(4);
  cache.append(newKv(3, 4, 0), 4);
  const buffer = cache.layers[0].k.buffer;
  cache.retain([0, 2]);
  assert.equal(cache.batch, 2);
  assert.equal(cache.layers[0].k.buffer, buffer, 'the same buffers');
  assert.equal(cache.layers[0].k.length, 2 * cfg.numKvHeads * cache.capacity * cfg.headDim);
  for (let t = 0; t < 4; t++) {
    assertHolds(cache, 0, t, 0, t);
    assertHolds(cache, 1, t, 2, t);
  }
  // a newcomer of 2 tokens fits the room the left row made
  const newcomer = KvCache.empty(cfg, 1).reserve(2);
  newcomer.append(newKv(1, 2, 50), 2);
  const revision = cache.revision;
  assert.equal(cache.absorb(newcomer), cache, 'in place');
  assert.ok(cache.revision > revision, 'a mirror of the cache sees that rows moved');
  assert.equal(cache.batch, 3);
  assert.deepEqual(
    [0, 1, 2].map((b) => cache.lengthOf(b)),
    [4, 4, 2],
  );
  for (let t = 0; t < 2; t++) assertHolds(cache, 2, t, 0, 50 + t);
  for (let t = 0; t < 4; t++) assertHolds(cache, 1, t, 2, t);
  // two more do not: a larger cache holds all five
  const pair = KvCache.empty(cfg, 2).reserve(6);
  pair.append(newKv(2, 6, 70), 6);
  const grown = cache.absorb(pair);
  assert.notEqual(grown, cache);
  assert.equal(grown.batch, 5);
  assert.ok(grown.capacity >= 6);
  for (let t = 0; t < 4; t++) assertHolds(grown, 1, t, 2, t);
  for (let t = 0; t < 6; t++) assertHolds(grown, 4, t, 1, 70 + t);
  assert.equal(grown.used, 6);
});

test('a released cache lends its buffers, zeroed, to the next cache of the same length', () => {
  const first = KvCache.empty(cfg, 2).reserve(5);
  first.append(newKv(2, 5, 0), 5);
  const buffers = first.layers.flatMap((layer) => [layer.k.buffer, layer.v.buffer]);
  first.release();
  assert.equal(first.layers.length, 0, 'a released cache holds nothing');
  const next = KvCache.empty(cfg, 2).reserve(5);
  const reused = next.layers.flatMap((layer) => [layer.k, layer.v]);
  assert.ok(
    reused.every((b) => buffers.includes(b.buffer)),
    'the same buffers',
  );
  assert.ok(
    reused.every((b) => b.every((x) => x === 0)),
    'zeroed',
  );
  assert.equal(KvCache.empty(cfg, 3).reserve(5).layers[0].k.length, 3 * cfg.numKvHeads * 5 * cfg.headDim);
});
