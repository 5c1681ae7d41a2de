import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRng } from '../src/util/random.ts';
import { matrix, type Matrix } from '../src/probe/matrix.ts';
import { encodeLabels } from '../src/probe/label-encoding.ts';
import { evaluateProbe } from '../src/probe/probe-evaluation.ts';
import { defaultProbeGrid, type ProbeGrid } from '../src/probe/probe-fit.ts';
import { fitRidgePath } from '../src/probe/ridge-regression.ts';
import { choleskySolve } from '../src/probe/cholesky.ts';

/** Synthetic representations: n items of d standard-normal features. */
function features(n: number, d: number, seed: number): Matrix {
  const rng = createRng(seed);
  const m = matrix(n, d);
  for (let i = 0; i < m.data.length; i++) m.data[i] = rng.normal();
  return m;
}
const row = (m: Matrix, i: number) => m.data.subarray(i * m.cols, (i + 1) * m.cols);
const grid: ProbeGrid = { ...defaultProbeGrid, mlpHidden: [32], mlpL2: [1e-4] };

test('ridge recovers a planted linear attribute; shuffled labels fall to chance', () => {
  const x = features(400, 16, 1);
  const rng = createRng(2);
  const w = Array.from({ length: 16 }, () => rng.normal());
  const y = Array.from(
    { length: x.rows },
    (_, i) => row(x, i).reduce((s, v, j) => s + v * w[j], 3) + 0.05 * rng.normal(),
  );
  const labels = encodeLabels('planted', y);
  const probe = evaluateProbe(x, labels, { probe: 'linear', seeds: 3 });
  assert.ok(probe.test.spearman.mean > 0.98, `spearman ${probe.test.spearman.mean}`);
  assert.ok(probe.test.r2.mean > 0.98, `r2 ${probe.test.r2.mean}`);
  assert.ok(Math.abs(probe.chance.spearman.mean) < 1e-9 && probe.chance.r2.mean <= 0.05);

  const shuffled = evaluateProbe(x, labels, { probe: 'linear', seeds: 3, shuffleLabels: true });
  assert.ok(Math.abs(shuffled.test.spearman.mean) < 0.2, `shuffled spearman ${shuffled.test.spearman.mean}`);
  assert.ok(shuffled.test.r2.mean < 0.1, `shuffled r2 ${shuffled.test.r2.mean}`);
});

test('logistic regression recovers planted classes; shuffled labels fall to the majority-class level', () => {
  const x = features(450, 12, 3);
  const rng = createRng(4);
  const w = Array.from({ length: 3 }, () => Array.from({ length: 12 }, () => rng.normal()));
  const names = ['cat', 'dog', 'fox'];
  const y = Array.from({ length: x.rows }, (_, i) => {
    const scores = w.map((wc) => row(x, i).reduce((s, v, j) => s + v * wc[j], 0));
    return names[scores.indexOf(Math.max(...scores))];
  });
  const labels = encodeLabels('animal', y);
  assert.deepEqual(labels.classes, names);
  const probe = evaluateProbe(x, labels, { probe: 'linear', seeds: 2 });
  assert.ok(probe.test.accuracy.mean > 0.9, `accuracy ${probe.test.accuracy.mean}`);
  assert.ok(probe.test.macroF1.mean > 0.9, `macro-F1 ${probe.test.macroF1.mean}`);

  const shuffled = evaluateProbe(x, labels, { probe: 'linear', seeds: 3, shuffleLabels: true });
  assert.ok(shuffled.test.accuracy.mean < 0.45, `shuffled accuracy ${shuffled.test.accuracy.mean} (chance ≈ 1/3)`);
});

test('the MLP recovers a non-linear attribute that the linear probe cannot', () => {
  const x = features(500, 8, 5);
  const y = Array.from({ length: x.rows }, (_, i) => row(x, i)[0] ** 2 + row(x, i)[1] ** 2);
  const labels = encodeLabels('radius', y);
  const linear = evaluateProbe(x, labels, { probe: 'linear', seeds: 2, grid });
  const mlp = evaluateProbe(x, labels, { probe: 'mlp', seeds: 2, grid });
  assert.ok(mlp.test.spearman.mean > 0.9, `mlp spearman ${mlp.test.spearman.mean}`);
  assert.ok(linear.test.spearman.mean < 0.4, `linear spearman ${linear.test.spearman.mean}`);
  assert.ok(mlp.test.r2.mean > linear.test.r2.mean + 0.5);

  // XOR classes
  const xor = encodeLabels(
    'quadrant',
    Array.from({ length: x.rows }, (_, i) => (row(x, i)[2] * row(x, i)[3] > 0 ? 'same' : 'opposite')),
  );
  const mlpXor = evaluateProbe(x, xor, { probe: 'mlp', seeds: 2, grid });
  const linearXor = evaluateProbe(x, xor, { probe: 'linear', seeds: 2, grid });
  assert.ok(mlpXor.test.accuracy.mean > 0.85, `mlp xor accuracy ${mlpXor.test.accuracy.mean}`);
  assert.ok(linearXor.test.accuracy.mean < 0.65, `linear xor accuracy ${linearXor.test.accuracy.mean}`);
});

test('probes are deterministic for a seed and choose hyper-parameters from the grid', () => {
  const x = features(120, 6, 7);
  const labels = encodeLabels(
    'sum',
    Array.from({ length: x.rows }, (_, i) => row(x, i)[0] + Math.sin(3 * row(x, i)[1])),
  );
  const a = evaluateProbe(x, labels, { probe: 'mlp', seeds: 2, grid: { ...grid, mlpHidden: [4, 16] } });
  const b = evaluateProbe(x, labels, { probe: 'mlp', seeds: 2, grid: { ...grid, mlpHidden: [4, 16] } });
  assert.deepEqual(a.seeds, b.seeds);
  for (const s of a.seeds) assert.ok([4, 16].includes(s.hyper.hidden));
  const ridge = evaluateProbe(x, labels, { probe: 'linear', seeds: 1 });
  assert.ok(defaultProbeGrid.ridgeLambdas.includes(ridge.seeds[0].hyper.lambda));
});

test('with more features than items the dual ridge solution equals the primal one', () => {
  const x = features(30, 50, 9);
  const rng = createRng(10);
  const y = Array.from({ length: x.rows }, () => rng.normal());
  const lambda = 3;
  const [dual] = fitRidgePath(x, y, [lambda]);
  // primal: (XᵀX + λI) w = Xᵀ(y - ȳ)
  const d = x.cols,
    n = x.rows,
    mean = y.reduce((a, b) => a + b, 0) / n;
  const a = new Float64Array(d * d),
    b = new Float64Array(d);
  for (let i = 0; i < n; i++)
    for (let p = 0; p < d; p++) {
      b[p] += row(x, i)[p] * (y[i] - mean);
      for (let q = 0; q < d; q++) a[p * d + q] += row(x, i)[p] * row(x, i)[q];
    }
  for (let p = 0; p < d; p++) a[p * d + p] += lambda;
  const primal = choleskySolve(a, d, b);
  for (let p = 0; p < d; p++)
    assert.ok(Math.abs(primal[p] - dual.weights[p]) < 1e-8, `weight ${p}: ${primal[p]} vs ${dual.weights[p]}`);
  assert.ok(Math.abs(dual.intercept - mean) < 1e-12);
});
