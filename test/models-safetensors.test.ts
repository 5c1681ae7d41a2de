import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import {
  INDEX_FILE_NAME,
  readSafetensors,
  readSafetensorsHeader,
  SafetensorsCheckpoint,
  SINGLE_FILE_NAME,
  writeSafetensors,
  writeSafetensorsCheckpoint,
} from '../src/models/safetensors.ts';
import type { Weights } from '../src/models/weights.ts';
import { createRng } from '../src/util/random.ts';
import { assertNamedError } from './helpers/named-error.ts';

const root = mkdtempSync(join(tmpdir(), 'alignkit-safetensors-'));
after(() => rmSync(root, { recursive: true, force: true }));
let counter = 0;
const freshDir = () => mkdtempSync(join(root, `case${counter++}-`));

function randomWeights(seed: number, shapes: Record<string, number[]>): Weights {
  const rng = createRng(seed);
  const weights: Weights = new Map();
  for (const [name, shape] of Object.entries(shapes)) {
    const data = new Float32Array(shape.reduce((a, b) => a * b, 1)).map(() => rng.normal());
    weights.set(name, { shape, data });
  }
  return weights;
}

/** A safetensors file built by hand (not by the writer under test). */
function rawFile(header: unknown, data: Uint8Array, headerLengthOverride?: number): Buffer {
  const json = Buffer.from(typeof header === 'string' ? header : JSON.stringify(header));
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(headerLengthOverride ?? json.length));
  return Buffer.concat([length, json, data]);
}

function writeRaw(name: string, bytes: Buffer): string {
  const path = join(freshDir(), name);
  writeFileSync(path, bytes);
  return path;
}

test('reads a hand-built file with F32, F16, BF16 and F64 tensors as float32', () => {
  const f32 = Float32Array.of(1.5, -2, 3.25);
  const f16 = Uint16Array.of(0x3c00, 0xc000, 0x3800, 0x0001); // 1, -2, 0.5, 2^-24
  const bf16 = Uint16Array.of(0x3f80, 0x4049); // 1, 3.140625
  const f64 = Float64Array.of(0.1, 1e-3);
  const data = Buffer.concat([f32, f16, bf16, f64].map((a) => Buffer.from(a.buffer)));
  const header = {
    __metadata__: { format: 'pt', note: 'hand-built' },
    a: { dtype: 'F32', shape: [3], data_offsets: [0, 12] },
    b: { dtype: 'F16', shape: [2, 2], data_offsets: [12, 20] },
    c: { dtype: 'BF16', shape: [2], data_offsets: [20, 24] },
    d: { dtype: 'F64', shape: [1, 2], data_offsets: [24, 40] },
    empty: { dtype: 'F32', shape: [0, 4], data_offsets: [40, 40] },
  };
  const path = writeRaw('hand.safetensors', rawFile(header, data));
  const checkpoint = SafetensorsCheckpoint.open(path);
  assert.deepEqual(checkpoint.metadata, { format: 'pt', note: 'hand-built' });
  assert.deepEqual(checkpoint.shapes().get('b'), [2, 2]);
  assert.deepEqual([...checkpoint.read('a').data], [1.5, -2, 3.25]);
  assert.deepEqual([...checkpoint.read('b').data], [1, -2, 0.5, 2 ** -24]);
  assert.deepEqual([...checkpoint.read('c').data], [1, 3.140625]);
  assert.deepEqual([...checkpoint.read('d').data], [Math.fround(0.1), Math.fround(1e-3)]);
  assert.deepEqual(checkpoint.read('empty'), { shape: [0, 4], data: new Float32Array(0) });
  assert.equal(readSafetensors(path).size, 5);
});

test('the writer produces the documented layout: u64 header length, padded JSON, data', () => {
  const path = join(freshDir(), 'w.safetensors');
  const weights: Weights = new Map([
    ['x', { shape: [2], data: Float32Array.of(1, 2) }],
    ['y', { shape: [1, 3], data: Float32Array.of(3, 4, 5) }],
  ]);
  writeSafetensors(path, weights, { metadata: { producer: 'test' } });
  const bytes = readFileSync(path);
  const n = Number(bytes.readBigUInt64LE(0));
  assert.equal((8 + n) % 8, 0, 'data section is 8-byte aligned');
  const header = JSON.parse(bytes.subarray(8, 8 + n).toString('utf8'));
  assert.deepEqual(header.__metadata__, { producer: 'test', format: 'pt' });
  assert.deepEqual(header.x, { dtype: 'F32', shape: [2], data_offsets: [0, 8] });
  assert.deepEqual(header.y, { dtype: 'F32', shape: [1, 3], data_offsets: [8, 20] });
  const data = new Float32Array(bytes.buffer.slice(bytes.byteOffset + 8 + n, bytes.byteOffset + bytes.length));
  assert.deepEqual([...data], [1, 2, 3, 4, 5]);
  assert.deepEqual(readdirSync(join(path, '..')), ['w.safetensors'], 'no temp file left behind');
});

test('F32 round trip is exact; F16 and BF16 round trips are within their precision', () => {
  const weights = randomWeights(1, { a: [8, 16], b: [16], c: [3, 5, 7] });
  for (const [dtype, tolerance] of [
    ['F32', 0],
    ['F16', 2 ** -11],
    ['BF16', 2 ** -8],
  ] as const) {
    const path = join(freshDir(), 'm.safetensors');
    writeSafetensors(path, weights, { dtype });
    const header = readSafetensorsHeader(path);
    assert.ok(header.tensors.every((t) => t.dtype === dtype));
    const back = readSafetensors(path);
    for (const [name, t] of weights) {
      const got = back.get(name)!;
      assert.deepEqual(got.shape, t.shape);
      for (let i = 0; i < t.data.length; i++) {
        assert.ok(Math.abs(got.data[i] - t.data[i]) <= Math.abs(t.data[i]) * tolerance, `${dtype} ${name}[${i}]`);
      }
    }
  }
});

test('sharded checkpoints: written above shardBytes, read back through the index', () => {
  const dir = freshDir();
  const weights = randomWeights(2, { 'l0.w': [32, 32], 'l0.b': [32], 'l1.w': [32, 32], 'l1.b': [32], head: [10, 32] });
  const files = writeSafetensorsCheckpoint(dir, weights, { shardBytes: 5000 });
  assert.ok(files.length >= 3, `files: ${files}`);
  assert.ok(files.includes(INDEX_FILE_NAME));
  const index = JSON.parse(readFileSync(join(dir, INDEX_FILE_NAME), 'utf8'));
  assert.deepEqual(Object.keys(index.weight_map).sort(), [...weights.keys()].sort());
  assert.equal(
    index.metadata.total_size,
    [...weights.values()].reduce((s, t) => s + t.data.length * 4, 0),
  );
  assert.match(index.weight_map['l0.w'], /^model-00001-of-0000\d\.safetensors$/);
  for (const source of [dir, join(dir, INDEX_FILE_NAME)]) {
    const back = readSafetensors(source);
    for (const [name, t] of weights) assert.deepEqual(back.get(name), t);
  }
  // saving again unsharded removes the stale shards and index
  writeSafetensorsCheckpoint(dir, weights);
  assert.deepEqual(readdirSync(dir), [SINGLE_FILE_NAME]);
  assert.deepEqual(readSafetensors(dir).get('head'), weights.get('head'));
});

test('a failed write leaves the previous file intact and no temp file', () => {
  const dir = freshDir();
  const path = join(dir, 'model.safetensors');
  const original = randomWeights(3, { a: [4, 4] });
  writeSafetensors(path, original);
  const before = readFileSync(path);
  // fault injection: the tensor data becomes unreadable after the header is computed
  let reads = 0;
  const faulty = {
    shape: [4, 4],
    get data(): Float32Array {
      if (++reads > 2) throw new Error('disk on fire');
      return new Float32Array(16);
    },
  };
  assert.throws(() => writeSafetensors(path, new Map([['a', faulty]])), /disk on fire/);
  assert.deepEqual(readFileSync(path), before);
  assert.deepEqual(readdirSync(dir), ['model.safetensors']);
});

test('corrupt files give one clear error naming the file', async (t) => {
  const good = rawFile({ a: { dtype: 'F32', shape: [2, 2], data_offsets: [0, 16] } }, Buffer.alloc(16));

  await t.test('shorter than the 8-byte length', () => {
    const path = writeRaw('tiny.safetensors', Buffer.from([1, 2, 3]));
    assertNamedError(() => SafetensorsCheckpoint.open(path), path, /truncated/);
  });
  await t.test('header length beyond the file', () => {
    const path = writeRaw('long.safetensors', rawFile({ a: 1 }, Buffer.alloc(0), 1_000_000));
    assertNamedError(
      () => SafetensorsCheckpoint.open(path),
      path,
      /header length \(1000000 bytes\) runs past the end of the file/,
    );
  });
  await t.test('header length over the format limit', () => {
    const path = writeRaw('huge.safetensors', rawFile({}, Buffer.alloc(0), 200_000_000));
    truncateSync(path, 200_000_100); // sparse: no disk space used
    assertNamedError(() => SafetensorsCheckpoint.open(path), path, /over the format's 100 MB limit/);
  });
  await t.test('data cut off (truncated file)', () => {
    const path = writeRaw('cut.safetensors', good.subarray(0, good.length - 5));
    assertNamedError(
      () => SafetensorsCheckpoint.open(path),
      path,
      /tensor "a".*run past the end of the data section \(11 bytes\).*truncated/,
    );
  });
  await t.test('malformed JSON header', () => {
    const path = writeRaw('json.safetensors', rawFile('{"a": {"dtype": "F32",', Buffer.alloc(0)));
    assertNamedError(() => SafetensorsCheckpoint.open(path), path, /JSON header is malformed/);
  });
  await t.test('JSON header that is not an object', () => {
    const path = writeRaw('arr.safetensors', rawFile('[1,2]', Buffer.alloc(0)));
    assertNamedError(() => SafetensorsCheckpoint.open(path), path, /must be an object/);
  });
  await t.test('data_offsets disagree with shape x dtype', () => {
    const path = writeRaw(
      'size.safetensors',
      rawFile({ a: { dtype: 'F32', shape: [2, 3], data_offsets: [0, 16] } }, Buffer.alloc(24)),
    );
    assertNamedError(
      () => SafetensorsCheckpoint.open(path),
      path,
      /tensor "a": data_offsets \[0, 16\] hold 16 bytes, but shape \[2, 3\] of F32 needs 24 bytes/,
    );
  });
  await t.test('overlapping tensors', () => {
    const header = {
      a: { dtype: 'F32', shape: [4], data_offsets: [0, 16] },
      b: { dtype: 'F32', shape: [2], data_offsets: [8, 16] },
    };
    const path = writeRaw('overlap.safetensors', rawFile(header, Buffer.alloc(16)));
    assertNamedError(() => SafetensorsCheckpoint.open(path), path, /"a" \[0, 16\] and "b" \[8, 16\] overlap/);
  });
  await t.test('offsets outside the data section', () => {
    const header = { a: { dtype: 'F16', shape: [4], data_offsets: [100, 108] } };
    const path = writeRaw('outside.safetensors', rawFile(header, Buffer.alloc(16)));
    assertNamedError(() => SafetensorsCheckpoint.open(path), path, /run past the end of the data section/);
  });
  await t.test('bad offsets, shapes and dtypes', () => {
    const cases: [unknown, RegExp][] = [
      [{ a: { dtype: 'F32', shape: [1], data_offsets: [8, 4] } }, /data_offsets must be \[begin, end\]/],
      [{ a: { dtype: 'F32', shape: [-1], data_offsets: [0, 4] } }, /shape must be an array of non-negative integers/],
      [{ a: { dtype: 'Q4_K', shape: [1], data_offsets: [0, 4] } }, /unknown dtype "Q4_K"/],
      [{ a: 'nope' }, /expected an object/],
    ];
    for (const [header, pattern] of cases) {
      const path = writeRaw('bad.safetensors', rawFile(header, Buffer.alloc(16)));
      assertNamedError(() => SafetensorsCheckpoint.open(path), path, pattern);
    }
  });
  await t.test('integer tensors are refused when read, naming the tensor and dtype', () => {
    const header = {
      ids: { dtype: 'I64', shape: [2], data_offsets: [0, 16] },
      w: { dtype: 'F32', shape: [1], data_offsets: [16, 20] },
    };
    const path = writeRaw('ints.safetensors', rawFile(header, Buffer.alloc(20)));
    const checkpoint = SafetensorsCheckpoint.open(path);
    assert.deepEqual([...checkpoint.read('w').data], [0]);
    assertNamedError(() => checkpoint.read('ids'), path, /tensor "ids" has dtype I64; only floating-point/);
  });
  await t.test('index naming a missing shard', () => {
    const dir = freshDir();
    writeFileSync(join(dir, 'model-00001-of-00002.safetensors'), good);
    const index = join(dir, INDEX_FILE_NAME);
    writeFileSync(
      index,
      JSON.stringify({ weight_map: { a: 'model-00001-of-00002.safetensors', b: 'model-00002-of-00002.safetensors' } }),
    );
    assertNamedError(
      () => SafetensorsCheckpoint.open(dir),
      index,
      /weight_map names shard "model-00002-of-00002.safetensors", which does not exist/,
    );
  });
  await t.test('index putting a tensor in a shard that lacks it', () => {
    const dir = freshDir();
    writeFileSync(join(dir, 'model-00001-of-00001.safetensors'), good);
    const index = join(dir, INDEX_FILE_NAME);
    writeFileSync(
      index,
      JSON.stringify({ weight_map: { a: 'model-00001-of-00001.safetensors', zz: 'model-00001-of-00001.safetensors' } }),
    );
    assertNamedError(
      () => SafetensorsCheckpoint.open(index),
      index,
      /tensor "zz" in shard "model-00001-of-00001.safetensors", which does not contain it/,
    );
  });
  await t.test('malformed index', () => {
    const dir = freshDir();
    const index = join(dir, INDEX_FILE_NAME);
    writeFileSync(index, '{"weight_map": 3}');
    assertNamedError(() => SafetensorsCheckpoint.open(index), index, /weight_map.*expected an object/);
  });
  await t.test('a directory without a checkpoint', () => {
    const dir = freshDir();
    assertNamedError(
      () => SafetensorsCheckpoint.open(dir),
      dir,
      /no model\.safetensors or model\.safetensors\.index\.json/,
    );
  });
});
