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
  assertDirectional(await directionalChecks(llama, w, full(w), dpoObjective({ beta: 0.5 }), preferencePairs(llama.vocabSize)), 'llama dpo');
  const withHead: Weights = new Map([...w, ...initRewardHead(llama, 4)]);
  const rm = await directionalChecks(llama, withHead, full(withHead), rewardObjective(), preferencePairs(llama.vocabSize, 5, false));
  assert.ok(rm.some((c) => c.name === 'score.weight'));
  assert.ok(!rm.some((c) => c.name === 'lm_head.weight'), 'the reward model does not use the LM head');
  assertDirectional(rm, 'llama rm');
  const g = randomWeights(gpt2, 6, 0.1);
  assertDirectional(await directionalChecks(gpt2, g, full(g), dpoObjective({ beta: 0.1 }), preferencePairs(gpt2.vocabSize)), 'gpt2 dpo');
});

test('LoRA: only the adapters are trained, and their gradients match finite differences (frozen base as initializers and as inputs)', async () => {
  for (const [cfg, targets] of [[llama, ['q_proj', 'v_proj', 'down_proj']], [gpt2, ['c_attn', 'c_fc']]] as const) {
    const w = randomWeights(cfg, 7, 0.1);
    const lora = { rank: 2, alpha: 4, targets };
    const adapters = initAdapters(cfg, w, lora, 8);
    const rng = createRng(9);
    for (const [name, t] of adapters) if (name.includes('lora_B')) t.data.forEach((_, i) => { t.data[i] = rng.normal() * 0.1; });
    for (const frozen of ['initializer', 'input'] as const) {
      const checks = await directionalChecks(cfg, w, { full: new Set(), lora: { config: lora, adapters }, frozen }, sftObjective(), sftExamples(cfg.vocabSize));
      assert.deepEqual(checks.map((c) => c.name).sort(), [...adapters.keys()].sort());
      assertDirectional(checks, `${cfg.family} lora (${frozen})`);
    }
  }
});
