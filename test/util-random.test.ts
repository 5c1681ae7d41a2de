import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createRng } from '../src/util/random.ts';

test('the same seed gives the same stream; different seeds differ', () => {
  const a = createRng(42);
  const b = createRng(42);
  const c = createRng(43);
  const seqA = Array.from({ length: 100 }, () => a.next());
  const seqB = Array.from({ length: 100 }, () => b.next());
  const seqC = Array.from({ length: 100 }, () => c.next());
  assert.deepEqual(seqA, seqB);
  assert.notDeepEqual(seqA, seqC);
  assert.notEqual(createRng(2 ** 32 + 1).next(), createRng(1).next(), 'high bits of large seeds matter');
});

test('next() is uniform in [0, 1)', () => {
  const rng = createRng(1);
  const bins = new Array(10).fill(0);
  const n = 100_000;
  for (let i = 0; i < n; i++) {
    const x = rng.next();
    assert.ok(x >= 0 && x < 1);
    bins[Math.floor(x * 10)]++;
  }
  for (const count of bins) assert.ok(Math.abs(count - n / 10) < 600, `bin count ${count}`);
});

test('normal() has mean 0 and std 1', () => {
  const rng = createRng(7);
  const n = 100_000;
  let sum = 0;
  let sumSq = 0;
  for (let i = 0; i < n; i++) {
    const z = rng.normal();
    sum += z;
    sumSq += z * z;
  }
  const mean = sum / n;
  const std = Math.sqrt(sumSq / n - mean * mean);
  assert.ok(Math.abs(mean) < 0.02, `mean ${mean}`);
  assert.ok(Math.abs(std - 1) < 0.02, `std ${std}`);
});

test('int(n) covers [0, n) and rejects bad n', () => {
  const rng = createRng(3);
  const seen = new Set<number>();
  for (let i = 0; i < 1000; i++) {
    const k = rng.int(5);
    assert.ok(Number.isInteger(k) && k >= 0 && k < 5);
    seen.add(k);
  }
  assert.equal(seen.size, 5);
  assert.throws(() => rng.int(0), RangeError);
  assert.throws(() => rng.int(2.5), RangeError);
});

test('shuffle is a deterministic permutation in place', () => {
  const items = Array.from({ length: 50 }, (_, i) => i);
  const shuffled = createRng(9).shuffle([...items]);
  assert.deepEqual(
    [...shuffled].sort((a, b) => a - b),
    items,
  );
  assert.notDeepEqual(shuffled, items);
  assert.deepEqual(createRng(9).shuffle([...items]), shuffled);
  const arr = [1, 2, 3];
  assert.equal(createRng(0).shuffle(arr), arr);
});
