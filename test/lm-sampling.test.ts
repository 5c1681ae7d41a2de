import { test } from 'node:test';
import assert from 'node:assert/strict';
import { argmax, filteredWeights, sampleToken } from '../src/lm/sampling.ts';
import { createRng } from '../src/util/random.ts';

/** Straightforward reference: sort everything, cut top-k, then top-p on the renormalized rest. */
function reference(row: number[], temperature: number, topK: number, topP: number): number[] {
  const max = row.reduce((a, b) => Math.max(a, b), -Infinity);
  let c = row
    .map((v, i) => [i, Math.exp((v - max) / temperature)] as [number, number])
    .filter(([, x]) => x > 0)
    .sort((a, b) => b[1] - a[1] || a[0] - b[0]);
  if (topK > 0) c = c.slice(0, topK);
  if (topP < 1) {
    const mass = c.reduce((s, [, x]) => s + x, 0);
    let cum = 0;
    const cut = c.findIndex(([, x]) => (cum += x) >= topP * mass);
    c = c.slice(0, cut + 1);
  }
  return c.map(([i]) => i);
}

test('top-k and top-p keep exactly the tokens a full sort keeps', () => {
  const rng = createRng(5);
  for (let trial = 0; trial < 200; trial++) {
    const vocab = 1 + rng.int(300);
    // flat rows, ties (rounded values), impossible tokens, and a range far beyond log-probs'
    const kind = trial % 5;
    const row = Array.from({ length: vocab }, () => {
      const x = rng.normal();
      if (kind === 1) return Math.round(x * 2);
      if (kind === 2 && rng.next() < 0.3) return -Infinity;
      return x * [0.01, 1, 4, 4, 1e30][kind];
    });
    if (kind === 2) row[rng.int(vocab)] = 0;
    const topK = [0, 1, 5, 40][trial % 4];
    const topP = [1, 0.9, 0.5, 0.999][(trial >> 2) % 4];
    const t = [1, 0.7][trial % 2];
    const got = filteredWeights(row, 0, vocab, t, topK, topP).map(([i]) => i);
    const want = reference(row, t, topK, topP);
    if ((topK === 0 || topK >= vocab) && topP >= 1)
      assert.deepEqual(
        [...got].sort((a, b) => a - b),
        [...want].sort((a, b) => a - b),
      );
    else assert.deepEqual(got, want, `trial ${trial} vocab ${vocab} k ${topK} p ${topP}`);
  }
});

test('top-k over a large vocabulary with one far outlier (every other token in one bucket) keeps what a full sort keeps', () => {
  const rng = createRng(8);
  const vocab = 262_144;
  const row = Array.from({ length: vocab }, () => rng.normal());
  row[7] = -1e9; // a suppressed token written as a huge negative rather than -Infinity
  const got = filteredWeights(row, 0, vocab, 1, 40, 1).map(([i]) => i);
  assert.deepEqual(got, reference(row, 1, 40, 1));
});

test('sampling is greedy at temperature 0, seeded, and follows the distribution', () => {
  const row = [Math.log(0.1), Math.log(0.6), Math.log(0.3)];
  assert.equal(sampleToken(row, 0, 3, { temperature: 0 }, Math.random), 1);
  assert.equal(argmax([1, 5, 5]), 1);
  const draw = (seed: number) => {
    const r = createRng(seed);
    return Array.from({ length: 20 }, () => sampleToken(row, 0, 3, {}, r.next));
  };
  assert.deepEqual(draw(3), draw(3));
  const r = createRng(9);
  const counts = [0, 0, 0];
  for (let i = 0; i < 20000; i++) counts[sampleToken(row, 0, 3, {}, r.next)]++;
  assert.ok(
    Math.abs(counts[1] / 20000 - 0.6) < 0.02 && Math.abs(counts[0] / 20000 - 0.1) < 0.02,
    JSON.stringify(counts),
  );
  // top-p 0.5 keeps only the 0.6 token
  for (let i = 0; i < 50; i++) assert.equal(sampleToken(row, 0, 3, { topP: 0.5 }, r.next), 1);
  // an offset row inside a matrix
  assert.equal(sampleToken([9, 9, ...row], 2, 3, { temperature: 0 }, r.next), 1);
});

test('top-k sampling draws exactly as the filtered list says (most likely first), for any random number', () => {
  const rng = createRng(12);
  for (let trial = 0; trial < 100; trial++) {
    const vocab = 2 + rng.int(200);
    const row = Float32Array.from({ length: vocab }, () => (rng.next() < 0.1 ? -Infinity : rng.normal() * 3));
    row[rng.int(vocab)] = 0;
    const topK = 1 + rng.int(80),
      t = [1, 0.5][trial % 2];
    const list = filteredWeights(row, 0, vocab, t, topK, 1);
    const total = list.reduce((a, [, w]) => a + w, 0);
    for (let draw = 0; draw < 20; draw++) {
      const r = rng.next();
      let u = r * total,
        want = list[list.length - 1][0];
      for (const [id, w] of list) {
        u -= w;
        if (u < 0) {
          want = id;
          break;
        }
      }
      assert.equal(
        sampleToken(row, 0, vocab, { temperature: t, topK }, () => r),
        want,
        `trial ${trial} k ${topK} u ${r}`,
      );
    }
  }
});
