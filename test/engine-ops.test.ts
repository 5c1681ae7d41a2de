import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runGraph, randomFloats, maxAbsDiff } from './helpers/graph-harness.ts';
import { int64 } from '../src/engine/session.ts';
import { broadcastShapes, Ops } from '../src/engine/ops.ts';
import { Graph } from '../src/engine/graph.ts';

const x = { shape: [2, 3, 4], data: randomFloats(24, 1) };
const pos = { shape: [2, 3, 4], data: Float32Array.from(randomFloats(24, 2), (v) => Math.abs(v) + 0.1) };
const row4 = { shape: [4], data: randomFloats(4, 3) };

const map = (a: Float32Array, f: (v: number, i: number) => number) => Float32Array.from(a, f);

async function expectClose(
  actual: Promise<{ data: unknown; dims: readonly number[] }>,
  expected: ArrayLike<number>,
  dims: number[],
  tol = 1e-5,
) {
  const out = await actual;
  assert.deepEqual([...out.dims], dims);
  const d = maxAbsDiff(Array.from(out.data as ArrayLike<number>, Number), expected);
  assert.ok(d <= tol, `max diff ${d} > ${tol}`);
}

test('elementwise unary ops match JS math', async () => {
  const cases: [string, (o: any, v: any) => any, (v: number) => number, typeof x][] = [
    ['exp', (o, v) => o.exp(v.x), Math.exp, x],
    ['log', (o, v) => o.log(v.x), Math.log, pos],
    ['sqrt', (o, v) => o.sqrt(v.x), Math.sqrt, pos],
    ['neg', (o, v) => o.neg(v.x), (a) => -a, x],
    ['reciprocal', (o, v) => o.reciprocal(v.x), (a) => 1 / a, pos],
    ['sigmoid', (o, v) => o.sigmoid(v.x), (a) => 1 / (1 + Math.exp(-a)), x],
    ['tanh', (o, v) => o.tanh(v.x), Math.tanh, x],
    ['relu', (o, v) => o.relu(v.x), (a) => Math.max(0, a), x],
    ['silu', (o, v) => o.silu(v.x), (a) => a / (1 + Math.exp(-a)), x],
    [
      'geluTanh',
      (o, v) => o.geluTanh(v.x),
      (a) => 0.5 * a * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (a + 0.044715 * a ** 3))),
      x,
    ],
  ];
  for (const [name, build, f, input] of cases) {
    await expectClose(runGraph({ x: input }, build), map(input.data, f), [2, 3, 4], 1e-5).catch((e) => {
      throw new Error(`${name}: ${e.message}`);
    });
  }
});

test('binary ops broadcast like numpy', async () => {
  const cases: [string, (o: any, v: any) => any, (a: number, b: number) => number][] = [
    ['add', (o, v) => o.add(v.x, v.r), (a, b) => a + b],
    ['sub', (o, v) => o.sub(v.x, v.r), (a, b) => a - b],
    ['mul', (o, v) => o.mul(v.x, v.r), (a, b) => a * b],
    ['div', (o, v) => o.div(v.x, v.r), (a, b) => a / b],
    ['max', (o, v) => o.max(v.x, v.r), Math.max],
  ];
  for (const [name, build, f] of cases) {
    await expectClose(
      runGraph({ x, r: row4 }, build),
      map(x.data, (a, i) => f(a, row4.data[i % 4])),
      [2, 3, 4],
    ).catch((e) => {
      throw new Error(`${name}: ${e.message}`);
    });
  }
  await expectClose(
    runGraph({ x: pos }, (o, v) => o.pow(v.x, o.scalar(2))),
    map(pos.data, (a) => a * a),
    [2, 3, 4],
  );
  assert.deepEqual(broadcastShapes(['B', 1, 4], [3, 1]), ['B', 3, 4]);
  assert.throws(() => broadcastShapes([2, 3], [4, 3]));
});

test('matmul with batch broadcasting', async () => {
  const a = { shape: [2, 3, 4], data: randomFloats(24, 5) };
  const b = { shape: [4, 5], data: randomFloats(20, 6) };
  const expected = new Float32Array(2 * 3 * 5);
  for (let n = 0; n < 2; n++)
    for (let i = 0; i < 3; i++)
      for (let j = 0; j < 5; j++) {
        let s = 0;
        for (let k = 0; k < 4; k++) s += a.data[(n * 3 + i) * 4 + k] * b.data[k * 5 + j];
        expected[(n * 3 + i) * 5 + j] = s;
      }
  await expectClose(
    runGraph({ a, b }, (o, v) => o.matmul(v.a, v.b)),
    expected,
    [2, 3, 5],
  );
  await expectClose(
    runGraph({ a, b }, (o, v) => o.affine(v.a, v.b, o.scalar(1))),
    map(expected, (e) => e + 1),
    [2, 3, 5],
  );
});

test('reductions, softmax and log-softmax over the last axis', async () => {
  const rows = (f: (r: number[]) => number[]) => {
    const out: number[] = [];
    for (let r = 0; r < 6; r++) out.push(...f(Array.from(x.data.subarray(r * 4, r * 4 + 4))));
    return out;
  };
  const sum = (r: number[]) => r.reduce((a, b) => a + b, 0);
  await expectClose(
    runGraph({ x }, (o, v) => o.reduceSum(v.x, [-1])),
    rows((r) => [sum(r)]),
    [2, 3, 1],
  );
  await expectClose(
    runGraph({ x }, (o, v) => o.reduceMean(v.x, [-1], false)),
    rows((r) => [sum(r) / 4]),
    [2, 3],
  );
  await expectClose(
    runGraph({ x }, (o, v) => o.reduceMax(v.x, [-1])),
    rows((r) => [Math.max(...r)]),
    [2, 3, 1],
  );
  const softmax = (r: number[]) => {
    const m = Math.max(...r);
    const e = r.map((v) => Math.exp(v - m));
    const s = sum(e);
    return e.map((v) => v / s);
  };
  await expectClose(
    runGraph({ x }, (o, v) => o.softmax(v.x)),
    rows(softmax),
    [2, 3, 4],
  );
  await expectClose(
    runGraph({ x }, (o, v) => o.logSoftmax(v.x)),
    rows((r) => softmax(r).map(Math.log)),
    [2, 3, 4],
  );
  // reduce over a middle axis
  const mid: number[] = [];
  for (let n = 0; n < 2; n++)
    for (let k = 0; k < 4; k++) {
      let s = 0;
      for (let i = 0; i < 3; i++) s += x.data[(n * 3 + i) * 4 + k];
      mid.push(s);
    }
  await expectClose(
    runGraph({ x }, (o, v) => o.reduceSum(v.x, [1], false)),
    mid,
    [2, 4],
  );
});

test('norms match their definitions', async () => {
  const w = { shape: [4], data: randomFloats(4, 7) };
  const b = { shape: [4], data: randomFloats(4, 8) };
  const expectedRms: number[] = [],
    expectedLn: number[] = [];
  for (let r = 0; r < 6; r++) {
    const row = Array.from(x.data.subarray(r * 4, r * 4 + 4));
    const ms = row.reduce((a, v) => a + v * v, 0) / 4;
    row.forEach((v, i) => expectedRms.push((v / Math.sqrt(ms + 1e-5)) * w.data[i]));
    const mean = row.reduce((a, v) => a + v, 0) / 4;
    const variance = row.reduce((a, v) => a + (v - mean) ** 2, 0) / 4;
    row.forEach((v, i) => expectedLn.push(((v - mean) / Math.sqrt(variance + 1e-5)) * w.data[i] + b.data[i]));
  }
  await expectClose(
    runGraph({ x, w }, (o, v) => o.rmsNorm(v.x, v.w, 1e-5)),
    expectedRms,
    [2, 3, 4],
  );
  await expectClose(
    runGraph({ x, w, b }, (o, v) => o.layerNorm(v.x, v.w, v.b, 1e-5)),
    expectedLn,
    [2, 3, 4],
  );
});

test('shape ops: reshape, transpose, concat, slice, unsqueeze, squeeze, expand', async () => {
  const d = x.data;
  await expectClose(
    runGraph({ x }, (o, v) => o.reshape(v.x, [0, -1])),
    d,
    [2, 12],
  );
  const t: number[] = [];
  for (let k = 0; k < 4; k++) for (let n = 0; n < 2; n++) for (let i = 0; i < 3; i++) t.push(d[(n * 3 + i) * 4 + k]);
  await expectClose(
    runGraph({ x }, (o, v) => o.transpose(v.x, [2, 0, 1])),
    t,
    [4, 2, 3],
  );
  await expectClose(
    runGraph({ x }, (o, v) => o.concat([v.x, v.x], 0)),
    [...d, ...d],
    [4, 3, 4],
  );
  const sl: number[] = [];
  for (let r = 0; r < 6; r++) sl.push(d[r * 4 + 1], d[r * 4 + 2]);
  await expectClose(
    runGraph({ x }, (o, v) => o.slice(v.x, [1], [3], [2])),
    sl,
    [2, 3, 2],
  );
  await expectClose(
    runGraph({ x }, (o, v) => o.squeeze(o.unsqueeze(v.x, [1]), [1])),
    d,
    [2, 3, 4],
  );
  const ex: number[] = [];
  for (let r = 0; r < 6; r++) ex.push(...row4.data);
  await expectClose(
    runGraph({ x, r: row4 }, (o, v) => o.expandLike(v.r, v.x)),
    ex,
    [2, 3, 4],
  );
  await expectClose(
    runGraph({ x, r: row4 }, (o, v) => o.reshapeLike(o.reshape(v.x, [-1]), v.x)),
    d,
    [2, 3, 4],
  );
});

test('gather, gatherElements, where, cast, comparisons', async () => {
  const table = { shape: [5, 3], data: randomFloats(15, 9) };
  const idx = { shape: [2, 2], data: int64([4, 0, 2, 2]) };
  const expected = [4, 0, 2, 2].flatMap((i) => Array.from(table.data.subarray(i * 3, i * 3 + 3)));
  await expectClose(
    runGraph({ table, idx }, (o, v) => o.gather(v.table, v.idx)),
    expected,
    [2, 2, 3],
  );
  const cols = { shape: [5, 1], data: int64([0, 2, 1, 1, 0]) };
  await expectClose(
    runGraph({ table, cols }, (o, v) => o.gatherElements(v.table, v.cols, 1)),
    [0, 2, 1, 1, 0].map((c, r) => table.data[r * 3 + c]),
    [5, 1],
  );
  await expectClose(
    runGraph({ x }, (o, v) => o.where(o.greater(v.x, o.scalar(0)), v.x, o.scalar(-1))),
    map(x.data, (a) => (a > 0 ? a : -1)),
    [2, 3, 4],
  );
  await expectClose(
    runGraph({ x }, (o, v) => o.cast(o.less(v.x, o.scalar(0)), 'float32')),
    map(x.data, (a) => (a < 0 ? 1 : 0)),
    [2, 3, 4],
  );
  await expectClose(
    runGraph({ x }, (o, v) => o.cast(o.equal(v.x, v.x), 'float32')),
    map(x.data, () => 1),
    [2, 3, 4],
  );
  const scattered = await runGraph(
    { table, cols, upd: { shape: [5, 1], data: Float32Array.from([1, 2, 3, 4, 5]) } },
    (o, v) => o.scatterElementsAdd(o.zerosLike(v.table), v.cols, v.upd, 1),
  );
  assert.deepEqual(Array.from(scattered.data as Float32Array), [1, 0, 0, 0, 0, 2, 0, 3, 0, 0, 4, 0, 5, 0, 0]);
});

test('symbolic dimensions keep one graph for every shape', async () => {
  for (const rows of [1, 3, 7]) {
    const input = { shape: [rows, 4], data: randomFloats(rows * 4, rows) };
    const out = await runGraph({ x: input }, (o, v) => o.mul(v.x, o.scalar(2)));
    assert.deepEqual([...out.dims], [rows, 4]);
  }
});

test('fused attention over a cache with a mask and grouped KV heads matches softmax(q·kᵀ/√d + bias)·v', async () => {
  const B = 2,
    T = 3,
    P = 4,
    H = 4,
    Hkv = 2,
    hd = 4,
    S = P + T;
  const q = { shape: [B, T, H * hd], data: randomFloats(B * T * H * hd, 21) };
  const k = { shape: [B, T, Hkv * hd], data: randomFloats(B * T * Hkv * hd, 22) };
  const v = { shape: [B, T, Hkv * hd], data: randomFloats(B * T * Hkv * hd, 23) };
  const pastK = { shape: [B, Hkv, P, hd], data: randomFloats(B * Hkv * P * hd, 24) };
  const pastV = { shape: [B, Hkv, P, hd], data: randomFloats(B * Hkv * P * hd, 25) };
  // row b masks past column b (a hole) and the new tokens are causal
  const bias = { shape: [B, 1, T, S], data: new Float32Array(B * T * S) };
  for (let b = 0; b < B; b++)
    for (let i = 0; i < T; i++)
      for (let c = 0; c < S; c++) if (c === b || c > P + i) bias.data[(b * T + i) * S + c] = -1e9;
  const key = (b: number, g: number, c: number, d: number) =>
    c < P ? pastK.data[((b * Hkv + g) * P + c) * hd + d] : k.data[((b * T + c - P) * Hkv + g) * hd + d];
  const value = (b: number, g: number, c: number, d: number) =>
    c < P ? pastV.data[((b * Hkv + g) * P + c) * hd + d] : v.data[((b * T + c - P) * Hkv + g) * hd + d];
  const expected = new Float32Array(B * T * H * hd);
  for (let b = 0; b < B; b++)
    for (let i = 0; i < T; i++)
      for (let h = 0; h < H; h++) {
        const g = Math.floor(h / (H / Hkv));
        const scores = Array.from({ length: S }, (_, c) => {
          let dot = 0;
          for (let d = 0; d < hd; d++) dot += q.data[((b * T + i) * H + h) * hd + d] * key(b, g, c, d);
          return dot / Math.sqrt(hd) + bias.data[(b * T + i) * S + c];
        });
        const max = Math.max(...scores);
        const w = scores.map((s) => Math.exp(s - max));
        const total = w.reduce((a, x) => a + x, 0);
        for (let d = 0; d < hd; d++)
          expected[((b * T + i) * H + h) * hd + d] = w.reduce((a, x, c) => a + (x / total) * value(b, g, c, d), 0);
      }
  await expectClose(
    runGraph({ q, k, v, bias, pastK, pastV }, (o, x) => o.attention(x.q, x.k, x.v, x.bias, x.pastK, x.pastV, H, Hkv)),
    expected,
    [B, T, H * hd],
  );
});

test('rotary embedding rotates halves (HF layout) at the given positions', async () => {
  const B = 1,
    T = 3,
    H = 2,
    hd = 4,
    maxPos = 8;
  const x = { shape: [B, T, H * hd], data: randomFloats(B * T * H * hd, 31) };
  const positions = [5, 0, 7];
  const angle = (p: number, i: number) => p / Math.pow(10000, (2 * i) / hd);
  const table = (f: (a: number) => number) =>
    Float32Array.from({ length: (maxPos * hd) / 2 }, (_, j) => f(angle(Math.floor(j / (hd / 2)), j % (hd / 2))));
  const expected = new Float32Array(x.data.length);
  for (let t = 0; t < T; t++)
    for (let h = 0; h < H; h++)
      for (let i = 0; i < hd / 2; i++) {
        const base = (t * H + h) * hd,
          a = angle(positions[t], i);
        const x1 = x.data[base + i],
          x2 = x.data[base + i + hd / 2];
        expected[base + i] = x1 * Math.cos(a) - x2 * Math.sin(a);
        expected[base + i + hd / 2] = x2 * Math.cos(a) + x1 * Math.sin(a);
      }
  await expectClose(
    runGraph({ x, pos: { shape: [B, T], data: int64(positions) } }, (o, v) => {
      const cos = o.g.tensor('cos', 'float32', [maxPos, hd / 2], table(Math.cos));
      const sin = o.g.tensor('sin', 'float32', [maxPos, hd / 2], table(Math.sin));
      return o.rotaryEmbedding(v.x, cos, sin, v.pos, H);
    }),
    expected,
    [B, T, H * hd],
  );
});

test('reshape declares the -1 dimension it will have, also beside named dimensions', () => {
  const o = new Ops(new Graph('reshape'));
  const keys = o.g.input('keys', 'float32', ['B', 'T', 32]);
  const heads = o.reshape(keys, [0, 0, -1, 16]);
  assert.deepEqual(heads.shape, ['B', 'T', 2, 16]);
  assert.deepEqual(o.reshape(heads, [0, 0, -1]).shape, ['B', 'T', 32]);
  const [rows] = o.reshape(keys, [-1, 32]).shape; // B·T: a fresh name, not a guess
  assert.ok(typeof rows === 'string' && rows !== 'B' && rows !== 'T', `declared ${rows}`);
  assert.equal(o.reshape(o.g.input('rows', 'float32', ['N', 8]), [0, -1]).shape[1], 8);
});
