import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dpoLogit, dpoMetrics } from '../src/train/dpo-metrics.ts';
import { pairLoss, softplus } from '../src/train/pair-loss.ts';
import { dpoObjective } from '../src/train/dpo-objective.ts';
import { rewardObjective, initRewardHead } from '../src/train/reward-objective.ts';
import { buildTrainGraph, LOSS_OUTPUT } from '../src/train/train-graph.ts';
import { computeSequenceLogps } from '../src/train/reference-logps.ts';
import { GraphSession } from '../src/engine/session.ts';
import { randomLlamaConfig, randomWeights } from './helpers/random-models.ts';
import { preferencePairs } from './helpers/train-fixtures.ts';
import type { PreferencePair } from '../src/train/examples.ts';
import type { Weights } from '../src/models/weights.ts';

const close = (a: number, b: number, tol = 1e-6, what = '') => assert.ok(Math.abs(a - b) <= tol, `${what} ${a} ≠ ${b}`);
const notes = { policyChosen: -10, policyRejected: -14, refChosen: -11, refRejected: -12 };

test("DPO loss and TRL metrics equal the notes' hand-computed values", () => {
  const m = dpoMetrics([notes], { beta: 0.1 });
  close(m.loss, 0.554355);
  close(m['rewards/chosen'], 0.1);
  close(m['rewards/rejected'], -0.2);
  close(m['rewards/margins'], 0.3);
  assert.equal(m['rewards/accuracies'], 1);
  assert.equal(m['logps/chosen'], -10);
  assert.equal(m['logps/rejected'], -14);
  // policy = reference: z = 0, loss ln 2, accuracy 0 (strict >)
  const init = dpoMetrics([{ policyChosen: -5, policyRejected: -7, refChosen: -5, refRejected: -7 }], { beta: 0.1 });
  close(init.loss, Math.LN2);
  assert.equal(init['rewards/accuracies'], 0);
  assert.equal(init['rewards/margins'], 0);
  // swapping chosen and rejected flips z
  const swapped = { policyChosen: -14, policyRejected: -10, refChosen: -12, refRejected: -11 };
  close(dpoLogit(swapped, { beta: 0.1 }), -dpoLogit(notes, { beta: 0.1 }), 1e-12);
  // per-pair margins (the length-regularized vector of the notes: z = 0.3 + 0.01·(100 − 300))
  close(dpoMetrics([notes], { beta: 0.1 }, [0.01 * (100 - 300)]).loss, 1.867786);
  // MODPO through scale β/w₀ and margin −(1/w₀)·w₁·Δm: w = (0.5, 0.5), m(y_w) = −0.3, m(y_l) = 0.1 → z = 1
  close(dpoMetrics([notes], { beta: 0.1, scale: 0.1 / 0.5 }, [-(1 / 0.5) * 0.5 * (-0.3 - 0.1)]).loss, 0.313262);
  close(pairLoss(0.3, 'hinge'), 0.7, 1e-12);
  close(softplus(-800), 0, 1e-300);
  close(softplus(800), 800);
});

async function runGraphLoss<T>(
  objective: ReturnType<typeof dpoObjective> | ReturnType<typeof rewardObjective>,
  cfg = randomLlamaConfig(),
  w: Weights,
  items: T[],
) {
  const g = buildTrainGraph(cfg, w, { full: new Set() }, objective as never, { gradients: false });
  const s = await GraphSession.create(g.graph, 'loss');
  const out = await s.run(objective.feeds(items as never, items.length));
  await s.release();
  return out;
}

test('the DPO graph computes the same loss as the float64 formula, with margins and a shared response prefix', async () => {
  const cfg = randomLlamaConfig();
  const w = randomWeights(cfg, 1, 0.1);
  const pairs = preferencePairs(cfg.vocabSize);
  const logps = await computeSequenceLogps(cfg, w, pairs);
  const margins = [0.25, -0.5];
  const objective = dpoObjective({ beta: 0.2, margin: (p) => margins[pairs.indexOf(p)] });
  const out = await runGraphLoss(objective, cfg, w, pairs);
  const expected = dpoMetrics(
    pairs.map((p, i) => ({
      policyChosen: logps.chosen[i],
      policyRejected: logps.rejected[i],
      refChosen: p.refChosen!,
      refRejected: p.refRejected!,
    })),
    { beta: 0.2 },
    margins,
  );
  close((out[LOSS_OUTPUT].data as Float32Array)[0], expected.loss, 1e-5, 'graph loss');
  const m = objective.metrics(pairs, out);
  close(m.sums['rewards/margins'] / m.count, expected['rewards/margins'], 1e-5, 'margins');

  // response tokens shared by both responses cancel in h(y_w) − h(y_l): moving them into the prompt changes nothing
  const shared = [7, 9, 11];
  const withPrefix: PreferencePair[] = pairs.map((p) => ({
    ...p,
    chosenIds: [...shared, ...p.chosenIds],
    rejectedIds: [...shared, ...p.rejectedIds],
  }));
  const inPrompt: PreferencePair[] = pairs.map((p) => ({ ...p, promptIds: [...p.promptIds, ...shared] }));
  const ref = randomWeights(cfg, 2, 0.1);
  const z = async (ps: PreferencePair[]) => {
    const pol = await computeSequenceLogps(cfg, w, ps);
    const rf = await computeSequenceLogps(cfg, ref, ps);
    return ps.map((_, i) =>
      dpoLogit(
        {
          policyChosen: pol.chosen[i],
          policyRejected: pol.rejected[i],
          refChosen: rf.chosen[i],
          refRejected: rf.rejected[i],
        },
        { beta: 1 },
      ),
    );
  };
  const [a, b] = [await z(withPrefix), await z(inPrompt)];
  a.forEach((v, i) => close(v, b[i], 2e-4, `pair ${i} z`));
  assert.ok(Math.abs(a[0]) > 1e-3, 'the check has a non-trivial z');
});

test('reward-model graph: loss −log σ(r_w − r_l) and strict-> accuracy from the rewards it outputs', async () => {
  const cfg = randomLlamaConfig();
  const w: Weights = new Map([...randomWeights(cfg, 3, 0.1), ...initRewardHead(cfg, 4)]);
  const pairs = preferencePairs(cfg.vocabSize, 5, false);
  const objective = rewardObjective();
  const out = await runGraphLoss(objective, cfg, w, pairs);
  const rw = out.rewards_chosen.data as Float32Array;
  const rl = out.rewards_rejected.data as Float32Array;
  const expected = pairs.reduce((a, _, i) => a + softplus(-(rw[i] - rl[i])), 0) / pairs.length;
  close((out[LOSS_OUTPUT].data as Float32Array)[0], expected, 1e-5);
  const m = objective.metrics(pairs, out);
  assert.equal(m.sums.accuracy, pairs.filter((_, i) => rw[i] > rl[i]).length);
});
