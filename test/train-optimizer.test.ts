import { test } from 'node:test';
import assert from 'node:assert/strict';
import { clipScale, defaultOptimizer, globalNorm, Optimizer } from '../src/train/optimizer.ts';
import { learningRate } from '../src/train/schedule.ts';

const close = (a: number, b: number, tol = 1e-6) =>
  assert.ok(Math.abs(a - b) <= tol * Math.max(1, Math.abs(b)), `${a} ≠ ${b}`);

test('AdamW follows torch.optim.AdamW: bias-corrected moments, decoupled decay, no decay on 1-D tensors', () => {
  const opt = new Optimizer({ ...defaultOptimizer('adamw'), weightDecay: 0.1 });
  const w = { name: 'w', shape: [1, 2], data: Float32Array.from([0.5, -1]) };
  const b = { name: 'b', shape: [2], data: Float32Array.from([0.5, -1]) };
  const grads = [
    [0.2, -0.4],
    [0.1, 0.3],
    [-0.5, 0.05],
  ];
  // float64 reference of the same three steps
  const ref = { w: [0.5, -1], b: [0.5, -1] };
  const m = { w: [0, 0], b: [0, 0] },
    v = { w: [0, 0], b: [0, 0] };
  const lr = 0.01,
    b1 = 0.9,
    b2 = 0.999,
    eps = 1e-8;
  grads.forEach((g, t) => {
    opt.step(
      [w, b],
      new Map([
        ['w', Float32Array.from(g)],
        ['b', Float32Array.from(g)],
      ]),
      lr,
    );
    for (const k of ['w', 'b'] as const) {
      for (let i = 0; i < 2; i++) {
        const decay = k === 'w' ? 0.1 : 0;
        ref[k][i] *= 1 - lr * decay;
        m[k][i] = b1 * m[k][i] + (1 - b1) * g[i];
        v[k][i] = b2 * v[k][i] + (1 - b2) * g[i] ** 2;
        const mh = m[k][i] / (1 - b1 ** (t + 1)),
          vh = v[k][i] / (1 - b2 ** (t + 1));
        ref[k][i] -= (lr * mh) / (Math.sqrt(vh) + eps);
      }
    }
  });
  ref.w.forEach((x, i) => close(w.data[i], x));
  ref.b.forEach((x, i) => close(b.data[i], x));
  assert.notEqual(w.data[0], b.data[0], 'decay applies to the matrix only');
  assert.equal(opt.state.step, 3);
  assert.equal(opt.state.buffers.size, 4);
});

test('the WebAssembly SIMD AdamW kernel and the JS loop give the same update', () => {
  const n = 40_003; // several kernel chunks and a ragged end
  const make = () => ({
    name: 'w',
    shape: [1, n],
    data: Float32Array.from({ length: n }, (_, i) => Math.sin(i) * 0.3),
  });
  const [a, b] = [make(), make()];
  const [simd, js] = [
    new Optimizer({ ...defaultOptimizer('adamw'), weightDecay: 0.05 }),
    new Optimizer({ ...defaultOptimizer('adamw'), weightDecay: 0.05 }, undefined, { simd: false }),
  ];
  for (let t = 0; t < 4; t++) {
    const g = Float32Array.from({ length: n }, (_, i) => Math.cos(i * 0.7 + t) * 0.01);
    simd.step([a], new Map([['w', g]]), 1e-3, 0.8);
    js.step([b], new Map([['w', g]]), 1e-3, 0.8);
  }
  let worst = 0;
  for (let i = 0; i < n; i++) worst = Math.max(worst, Math.abs(a.data[i] - b.data[i]));
  assert.ok(worst < 5e-7, `largest difference ${worst}`);
  assert.notDeepEqual(a.data, make().data);
  const [ma, mb] = [simd.state.buffers.get('exp_avg_sq.w')!, js.state.buffers.get('exp_avg_sq.w')!];
  for (let i = 0; i < n; i += 997) close(ma[i], mb[i], 1e-5);
});

test('the two-thread AdamW step gives the same weights and moments as the one-thread step', async () => {
  const sizes = [3_000_000, 1_500_003, 700_000, 64];
  const make = () =>
    sizes.map((n, k) => ({
      name: `p${k}`,
      shape: k === 3 ? [n] : [1, n],
      data: Float32Array.from({ length: n }, (_, i) => Math.sin(i + k) * 0.2),
    }));
  const [a, b] = [make(), make()];
  const [parallel, serial] = [
    new Optimizer({ ...defaultOptimizer('adamw'), weightDecay: 0.1 }, undefined, { threads: 2, parallelFrom: 1 }),
    new Optimizer({ ...defaultOptimizer('adamw'), weightDecay: 0.1 }, undefined, { threads: 1 }),
  ];
  for (let t = 0; t < 2; t++) {
    const grads = () =>
      new Map(
        sizes.map((n, k) => [`p${k}`, Float32Array.from({ length: n }, (_, i) => Math.cos(i * 0.3 + t + k) * 0.01)]),
      );
    await parallel.stepAsync(a, grads(), 1e-3, 0.9);
    await serial.stepAsync(b, grads(), 1e-3, 0.9);
  }
  await parallel.close();
  a.forEach((p, k) => {
    assert.equal(p.data.length, sizes[k]);
    assert.deepEqual(p.data, b[k].data, `${p.name} weights`);
    assert.deepEqual(
      parallel.state.buffers.get(`exp_avg_sq.${p.name}`),
      serial.state.buffers.get(`exp_avg_sq.${p.name}`),
    );
  });
  assert.equal(parallel.state.step, 2);
});

test('SGD: w − lr·g exactly, momentum as torch, gradient scale (clipping) applied', () => {
  const p = { name: 'p', shape: [3], data: Float32Array.from([1, 2, 3]) };
  new Optimizer(defaultOptimizer('sgd')).step([p], new Map([['p', Float32Array.from([0.5, -0.5, 1])]]), 0.1);
  assert.deepEqual([...p.data], [...Float32Array.from([1 - 0.05, 2 + 0.05, 3 - 0.1])]);
  const q = { name: 'q', shape: [1], data: Float32Array.from([0]) };
  const opt = new Optimizer({ ...defaultOptimizer('sgd'), momentum: 0.9 });
  opt.step([q], new Map([['q', Float32Array.from([1])]]), 1);
  opt.step([q], new Map([['q', Float32Array.from([1])]]), 1);
  close(q.data[0], -(1 + 1.9));
  const r = { name: 'r', shape: [1], data: Float32Array.from([0]) };
  new Optimizer(defaultOptimizer('sgd')).step([r], new Map([['r', Float32Array.from([4])]]), 1, 0.25);
  assert.equal(r.data[0], -1);
});

test('global-norm clipping as torch.nn.utils.clip_grad_norm_', () => {
  const norm = globalNorm([Float32Array.from([3, 0]), Float32Array.from([4])]);
  assert.equal(norm, 5);
  close(clipScale(norm, 1), 1 / (5 + 1e-6));
  assert.equal(clipScale(norm, 10), 1);
  assert.equal(clipScale(norm, 0), 1, '0 = off');
});

test("schedules match HF's get_*_schedule_with_warmup", () => {
  const s = { lr: 1, warmup: 2, totalSteps: 10 };
  assert.deepEqual(
    [0, 1, 2, 5].map((t) => learningRate({ ...s, kind: 'constant' }, t)),
    [0, 0.5, 1, 1],
  );
  assert.deepEqual(
    [0, 1, 2, 6, 10].map((t) => learningRate({ ...s, kind: 'linear' }, t)),
    [0, 0.5, 1, 0.5, 0],
  );
  close(learningRate({ ...s, kind: 'cosine' }, 6), 0.5);
  close(learningRate({ ...s, kind: 'cosine' }, 2), 1);
  close(learningRate({ ...s, kind: 'cosine' }, 10), 0);
  assert.equal(
    learningRate({ lr: 3, warmup: 0, totalSteps: 1, kind: 'linear' }, 0),
    3,
    'one step without warmup runs at the full rate',
  );
});
