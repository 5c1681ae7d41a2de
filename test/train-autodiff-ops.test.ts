import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gradCheck, type CheckInput } from './helpers/gradcheck.ts';
import { randomFloats } from './helpers/graph-harness.ts';
import { int64 } from '../src/engine/session.ts';
import { Graph, type Value } from '../src/engine/graph.ts';
import { Ops } from '../src/engine/ops.ts';
import { gradients, pruneGraph } from '../src/engine/autodiff.ts';
import { differentiableOps } from '../src/engine/gradient-rules.ts';
import type { Ops as OpsType } from '../src/engine/ops.ts';

const TOL = 2e-3;
type Build = (o: OpsType, v: Record<string, Value>) => Value;

const f = (shape: number[], seed: number, symbolic: number[] = [], scale = 1): CheckInput => ({
  shape,
  data: randomFloats(
    shape.reduce((a, b) => a * b, 1),
    seed,
    scale,
  ),
  symbolic,
});
const positive = (shape: number[], seed: number, symbolic: number[] = []): CheckInput => ({
  shape,
  data: Float32Array.from(
    randomFloats(
      shape.reduce((a, b) => a * b, 1),
      seed,
    ),
    (v) => Math.abs(v) + 0.5,
  ),
  symbolic,
});

async function expectGrad(name: string, inputs: Record<string, CheckInput>, build: Build, tol = TOL) {
  const r = await gradCheck(inputs, build);
  assert.ok(r.checked > 0, `${name}: nothing checked`);
  assert.ok(r.worst <= tol, `${name}: worst relative error ${r.worst.toExponential(2)} at ${r.where}`);
}

const x = f([2, 3, 4], 1, [0]);
const y = f([2, 3, 4], 2, [0]);
const row = f([4], 3);
const col = f([3, 1], 4);
const pos = positive([2, 3, 4], 5, [0]);

test('elementwise unary ops', async () => {
  const cases: [string, Record<string, CheckInput>, Build][] = [
    ['neg', { x }, (o, v) => o.neg(v.x)],
    ['exp', { x }, (o, v) => o.exp(v.x)],
    ['log', { pos }, (o, v) => o.log(v.pos)],
    ['sqrt', { pos }, (o, v) => o.sqrt(v.pos)],
    ['reciprocal', { pos }, (o, v) => o.reciprocal(v.pos)],
    ['sigmoid', { x }, (o, v) => o.sigmoid(v.x)],
    ['tanh', { x }, (o, v) => o.tanh(v.x)],
    ['erf', { x }, (o, v) => o.erf(v.x)],
    ['relu', { pos }, (o, v) => o.relu(o.sub(v.pos, o.scalar(1.3)))],
    ['softplus', { x }, (o, v) => o.softplus(o.mul(v.x, o.scalar(3)))],
    ['identity', { x }, (o, v) => o.identity(v.x)],
    ['cast', { x }, (o, v) => o.cast(v.x, 'float32')],
    ['silu', { x }, (o, v) => o.silu(v.x)],
    ['geluTanh', { x }, (o, v) => o.geluTanh(v.x)],
  ];
  for (const [name, inputs, build] of cases) await expectGrad(name, inputs, build);
});

test('binary ops undo broadcasting', async () => {
  const cases: [string, Record<string, CheckInput>, Build][] = [
    ['add', { x, row }, (o, v) => o.add(v.x, v.row)],
    ['add col', { x, col }, (o, v) => o.add(v.x, v.col)],
    ['sub', { x, row }, (o, v) => o.sub(v.row, v.x)],
    ['mul', { x, y }, (o, v) => o.mul(v.x, v.y)],
    ['mul col', { x, col }, (o, v) => o.mul(v.col, v.x)],
    ['div', { x, pos }, (o, v) => o.div(v.x, v.pos)],
    ['div row', { pos, row }, (o, v) => o.div(v.row, v.pos)],
    ['pow 2', { x }, (o, v) => o.pow(v.x, o.scalar(2))],
    ['pow 3', { x }, (o, v) => o.pow(v.x, o.scalar(3))],
    ['pow tensor', { pos, row }, (o, v) => o.pow(v.pos, v.row)],
    ['max', { x, y }, (o, v) => o.max(v.x, v.y)],
    ['min', { x, row }, (o, v) => o.min(v.x, v.row)],
    ['where', { x, y, row }, (o, v) => o.where(o.greater(v.x, o.scalar(0)), v.y, v.row)],
    ['sum of three', { x, y, row }, (o, v) => o.sum([v.x, v.y, v.row])],
    ['expand', { row, x }, (o, v) => o.mul(o.expandLike(v.row, v.x), v.x)],
  ];
  for (const [name, inputs, build] of cases) await expectGrad(name, inputs, build);
});

test('matmul: batched, broadcast over batch, 2-D weights, transposed weights', async () => {
  const a = f([2, 3, 4], 11, [0]);
  const w = f([4, 5], 12);
  const wOutIn = f([5, 4], 13);
  const b3 = f([2, 4, 5], 14, [0]);
  const bHead = f([1, 4, 5], 15);
  await expectGrad('matmul 3d·2d', { a, w }, (o, v) => o.matmul(v.a, v.w));
  await expectGrad('matmul 3d·3d', { a, b3 }, (o, v) => o.matmul(v.a, v.b3));
  await expectGrad('matmul batch broadcast', { a, bHead }, (o, v) => o.matmul(v.a, v.bHead));
  await expectGrad('matmul transposed weight', { a, wOutIn }, (o, v) => o.matmul(v.a, o.transpose(v.wOutIn, [1, 0])));
  await expectGrad('matmul 2d·2d', { m: f([3, 4], 16), w }, (o, v) => o.matmul(v.m, v.w));
  await expectGrad('matmul with symbolic inner rows', { a: f([2, 3, 4], 17, [0, 1]), w }, (o, v) => o.matmul(v.a, v.w));
  await expectGrad('x·xᵀ (same value twice)', { a }, (o, v) => o.matmul(v.a, o.transpose(v.a, [0, 2, 1])));
});

test('reductions, softmax, log-softmax', async () => {
  const cases: [string, Build][] = [
    ['reduceSum last', (o, v) => o.reduceSum(v.x, [-1])],
    ['reduceSum middle, no keepdims', (o, v) => o.reduceSum(v.x, [1], false)],
    ['reduceSum symbolic axis', (o, v) => o.reduceSum(v.x, [0, 2], false)],
    ['reduceMean last', (o, v) => o.reduceMean(v.x, [-1])],
    ['reduceMean symbolic axis', (o, v) => o.reduceMean(v.x, [0], false)],
    ['reduceMax', (o, v) => o.reduceMax(v.x, [-1])],
    ['reduceMax no keepdims', (o, v) => o.reduceMax(v.x, [1], false)],
    ['softmax', (o, v) => o.softmax(v.x, -1)],
    ['softmax axis 1', (o, v) => o.softmax(v.x, 1)],
    ['logSoftmax', (o, v) => o.logSoftmax(v.x, -1)],
    ['reduce then broadcast', (o, v) => o.mul(v.x, o.reduceMean(o.mul(v.x, v.x), [-1]))],
  ];
  for (const [name, build] of cases) await expectGrad(name, { x }, build);
  const w = f([4], 21);
  const b = f([4], 22);
  await expectGrad('rmsNorm', { x, w }, (o, v) => o.rmsNorm(v.x, v.w, 1e-5));
  await expectGrad('layerNorm', { x, w, b }, (o, v) => o.layerNorm(v.x, v.w, v.b, 1e-5));
});

test('shape ops: reshape, transpose, squeeze, unsqueeze, concat, slice', async () => {
  const cases: [string, Record<string, CheckInput>, Build][] = [
    ['reshape', { x }, (o, v) => o.mul(o.reshape(v.x, [0, -1]), o.reshape(v.x, [0, -1]))],
    ['reshapeLike', { x, y }, (o, v) => o.reshapeLike(o.reshape(v.x, [-1]), v.y)],
    ['transpose', { x }, (o, v) => o.transpose(v.x, [2, 0, 1])],
    ['transpose twice', { x }, (o, v) => o.mul(o.transpose(o.transpose(v.x, [1, 2, 0]), [1, 0, 2]), o.scalar(2))],
    ['unsqueeze/squeeze', { x }, (o, v) => o.squeeze(o.unsqueeze(o.exp(v.x), [1]), [1])],
    ['concat static', { x, y }, (o, v) => o.concat([v.x, o.exp(v.y), v.x], 2)],
    ['concat symbolic', { x, y }, (o, v) => o.concat([v.x, v.y], 0)],
    ['slice', { x }, (o, v) => o.slice(v.x, [1], [3], [2])],
    ['slice negative', { x }, (o, v) => o.slice(v.x, [-2], [Number.MAX_SAFE_INTEGER], [1])],
    ['slice symbolic axis', { x: f([3, 3, 4], 31, [0]) }, (o, v) => o.slice(v.x, [1], [-1], [0])],
    [
      'slices tiling an axis (q, k, v)',
      { x },
      (o, v) =>
        o.add(
          o.add(o.mul(o.slice(v.x, [0], [1], [2]), o.scalar(2)), o.exp(o.slice(v.x, [1], [3], [2]))),
          o.slice(v.x, [3], [4], [2]),
        ),
    ],
    ['overlapping slices', { x }, (o, v) => o.mul(o.slice(v.x, [0], [3], [2]), o.slice(v.x, [1], [4], [2]))],
  ];
  for (const [name, inputs, build] of cases) await expectGrad(name, inputs, build);
});

test('gathers: embedding rows with repeats, gatherElements', async () => {
  const table = f([5, 3], 41);
  const ids = { shape: [2, 3], data: int64([4, 0, 4, 2, 2, 1]), symbolic: [0, 1] };
  await expectGrad('gather', { table, ids }, (o, v) => o.gather(v.table, v.ids));
  // a table both gathered and multiplied by (a tied embedding): the scatter folds into the other gradient
  await expectGrad('gather + matmul of one table', { table, ids }, (o, v) =>
    o.matmul(o.gather(v.table, v.ids), o.transpose(v.table, [1, 0])),
  );
  const cols = { shape: [5, 1], data: int64([0, 2, 1, 1, 0]) };
  await expectGrad('gatherElements', { table, cols }, (o, v) => o.gatherElements(o.logSoftmax(v.table), v.cols, 1));
});

test('gradients: zeros for unused inputs, errors name the op without a rule', async () => {
  const g = new Graph('t');
  const o = new Ops(g);
  const a = g.input('a', 'float32', [3]);
  const b = g.input('b', 'float32', [3]);
  const loss = o.reduceSum(o.mul(a, a), [0], false);
  const [, gb] = gradients(o, loss, [a, b]);
  assert.equal(gb.producer?.op, 'Expand');
  const c = g.input('c', 'float32', [3]);
  const odd = g.node('Abs', [c], {}, [{ dtype: 'float32', shape: [3] }])[0];
  assert.throws(() => gradients(o, o.reduceSum(odd, [0], false), [c]), /no gradient rule for Abs/);
  pruneGraph(g);
  assert.ok(differentiableOps().includes('MatMul'));
});
