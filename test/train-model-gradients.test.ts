import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomGpt2Config, randomLlamaConfig, randomWeights } from './helpers/random-models.ts';
import { assertDirectional, directionalChecks, preferencePairs, sftExamples } from './helpers/train-fixtures.ts';
import { sftObjective } from '../src/train/sft-objective.ts';
import { rewardObjective, initRewardHead } from '../src/train/reward-objective.ts';
import { dpoObjective } from '../src/train/dpo-objective.ts';
import { initAdapters } from '../src/train/lora.ts';
import { createRng } from '../src/util/random.ts';
import type { Weights } from '../src/models/weights.ts';
import { TrainingOps } from '../src/train/training-ops.ts';
import { Graph } from '../src/engine/graph.ts';
import { Ops } from '../src/engine/ops.ts';
import { GraphSession } from '../src/engine/session.ts';
import { gradCheck } from './helpers/gradcheck.ts';
import { randomFloats } from './helpers/graph-harness.ts';

const llama = randomLlamaConfig({ family: 'qwen2', numKvHeads: 2 }); // GQA and q/k/v biases
const gpt2 = randomGpt2Config();
const full = (w: Weights) => ({ full: new Set(w.keys()) });

test('small llama (GQA, biases, tied-free head): SFT gradients of every tensor match finite differences', async () => {
  const w = randomWeights(llama, 1, 0.1);
  const checks = await directionalChecks(llama, w, full(w), sftObjective(), sftExamples(llama.vocabSize));
  assert.equal(checks.length, w.size);
  assertDirectional(checks, 'llama sft');
});

test('small GPT-2 (tied embeddings, learned positions): SFT gradients match finite differences', async () => {
  const w = randomWeights(gpt2, 2, 0.1);
  const checks = await directionalChecks(gpt2, w, full(w), sftObjective(), sftExamples(gpt2.vocabSize));
  assert.equal(checks.length, w.size);
  assertDirectional(checks, 'gpt2 sft');
});

test('DPO and reward-model gradients match finite differences', async () => {
  const w = randomWeights(llama, 3, 0.1);
  assertDirectional(
    await directionalChecks(llama, w, full(w), dpoObjective({ beta: 0.5 }), preferencePairs(llama.vocabSize)),
    'llama dpo',
  );
  const withHead: Weights = new Map([...w, ...initRewardHead(llama, 4)]);
  const rm = await directionalChecks(
    llama,
    withHead,
    full(withHead),
    rewardObjective(),
    preferencePairs(llama.vocabSize, 5, false),
  );
  assert.ok(rm.some((c) => c.name === 'score.weight'));
  assert.ok(!rm.some((c) => c.name === 'lm_head.weight'), 'the reward model does not use the LM head');
  assertDirectional(rm, 'llama rm');
  const g = randomWeights(gpt2, 6, 0.1);
  assertDirectional(
    await directionalChecks(gpt2, g, full(g), dpoObjective({ beta: 0.1 }), preferencePairs(gpt2.vocabSize)),
    'gpt2 dpo',
  );
});

test('LoRA: only the adapters are trained, and their gradients match finite differences (frozen base as initializers and as inputs)', async () => {
  for (const [cfg, targets] of [
    [llama, ['q_proj', 'v_proj', 'down_proj']],
    [gpt2, ['c_attn', 'c_fc']],
  ] as const) {
    const w = randomWeights(cfg, 7, 0.1);
    const lora = { rank: 2, alpha: 4, targets };
    const adapters = initAdapters(cfg, w, lora, 8);
    const rng = createRng(9);
    for (const [name, t] of adapters)
      if (name.includes('lora_B'))
        t.data.forEach((_, i) => {
          t.data[i] = rng.normal() * 0.1;
        });
    for (const frozen of ['initializer', 'input'] as const) {
      const checks = await directionalChecks(
        cfg,
        w,
        { full: new Set(), lora: { config: lora, adapters }, frozen },
        sftObjective(),
        sftExamples(cfg.vocabSize),
      );
      assert.deepEqual(checks.map((c) => c.name).sort(), [...adapters.keys()].sort());
      assertDirectional(checks, `${cfg.family} lora (${frozen})`);
    }
  }
});

test('training ops: hand-written GELU, SiLU, RMSNorm and LayerNorm gradients match finite differences, forwards match the plain ops', async () => {
  const x = { shape: [2, 3, 8], data: randomFloats(48, 1, 1.5), symbolic: [0, 1] };
  const w = { shape: [8], data: randomFloats(8, 2) };
  const b = { shape: [8], data: randomFloats(8, 3) };
  const ops = (g: Graph) => new TrainingOps(g);
  const cases: [
    string,
    (o: Ops, v: Record<string, import('../src/engine/graph.ts').Value>) => import('../src/engine/graph.ts').Value,
  ][] = [
    ['gelu', (o, v) => o.geluTanh(v.x)],
    ['silu', (o, v) => o.silu(v.x)],
    ['rmsNorm', (o, v) => o.rmsNorm(v.x, v.w, 1e-5)],
    ['layerNorm', (o, v) => o.layerNorm(v.x, v.w, v.b, 1e-5)],
  ];
  for (const [name, build] of cases) {
    const r = await gradCheck(
      { x, w, b },
      (o, v) => o.add(build(o, v), o.mul(o.reduceSum(v.w, [0]), o.reduceSum(v.b, [0]))),
      { ops },
    );
    assert.ok(r.worst < 2e-3, `${name}: ${r.where}`);
    // the same function as the inference ops (the base class's composition of the same op)
    const g = new Graph('same');
    const o = new TrainingOps(g);
    const v = {
      x: g.input('x', 'float32', x.shape),
      w: g.input('w', 'float32', w.shape),
      b: g.input('b', 'float32', b.shape),
    };
    const plain = {
      gelu: () => Ops.prototype.geluTanh.call(o, v.x),
      silu: () => Ops.prototype.silu.call(o, v.x),
      rmsNorm: () => Ops.prototype.rmsNorm.call(o, v.x, v.w, 1e-5),
      layerNorm: () => Ops.prototype.layerNorm.call(o, v.x, v.w, v.b, 1e-5),
    };
    g.output(o.sub(build(o, v), plain[name as keyof typeof plain]()), 'd');
    const session = await GraphSession.create(g, 'same');
    const d = (
      await session.run({
        x: { dims: x.shape, data: x.data },
        w: { dims: w.shape, data: w.data },
        b: { dims: b.shape, data: b.data },
      })
    ).d.data as Float32Array;
    await session.release();
    assert.ok(Math.max(...Array.from(d, Math.abs)) < 1e-5, `${name} forward differs from the plain op`);
  }
});
