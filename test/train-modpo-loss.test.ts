import { test } from 'node:test';
import assert from 'node:assert/strict';
import { modpoDpoTerms, modpoPairLoss } from '../src/train/modpo-loss.ts';
import { checkLengthAlpha, lengthOffset, lengthRegularizedLoss } from '../src/train/length-regularized.ts';
import { checkWeights, parseWeightSweep, parseWeights } from '../src/train/objective-weights.ts';
import { dpoLogit, dpoMetrics } from '../src/train/dpo-metrics.ts';
import { pairLoss } from '../src/train/pair-loss.ts';
import { AlignkitError } from '../src/errors.ts';

// the notes' §1.6 test vectors: β = 0.1, h(y_w) = 1, h(y_l) = −2
const beta = 0.1;
const logps = { policyChosen: -10, policyRejected: -14, refChosen: -11, refRejected: -12 };
const close = (a: number, b: number, tol = 1e-6) => assert.ok(Math.abs(a - b) < tol, `${a} ≠ ${b}`);

test('MODPO with w_k = 1 and zero margins is DPO exactly', () => {
  const w = checkWeights([1, 0], 1);
  const modpo = modpoPairLoss(beta, w, logps, { chosen: [0], rejected: [0] });
  const dpo = dpoMetrics([logps], { beta });
  assert.equal(modpo.loss, dpo.loss);
  close(modpo.loss, 0.554355);
  assert.equal(modpo.chosenReward, beta * 1);
  assert.equal(modpo.rejectedReward, beta * -2);
  // and in the DPO graph's form: scale β/w_k = β, offset 0
  const terms = modpoDpoTerms(beta, w, [{ chosen: [0], rejected: [0] }]);
  assert.equal(terms.beta, beta);
  assert.ok(terms.offsets.length === 1 && terms.offsets[0] === 0);
  // a single objective (no margin models) is DPO as well
  assert.equal(modpoPairLoss(beta, checkWeights([1], 0), logps, { chosen: [], rejected: [] }).loss, dpo.loss);
});

test('MODPO hand-computed values, two objectives (notes §1.6)', () => {
  const w = parseWeights('0.5,0.5', 1);
  const a = modpoPairLoss(beta, w, logps, { chosen: [0.2], rejected: [-0.4] });
  close(a.chosenReward, 0);
  close(a.rejectedReward, 0);
  close(a.loss, 0.693147);
  const b = modpoPairLoss(beta, w, logps, { chosen: [-0.3], rejected: [0.1] });
  close(b.chosenReward, 0.5);
  close(b.rejectedReward, -0.5);
  close(b.logit, 1.0);
  close(b.loss, 0.313262);
});

test('MODPO hand-computed value, three objectives', () => {
  // Δh = 3, Δm₁ = 1, Δm₂ = −3: z = (0.1/0.5)·3 − (1/0.5)·(0.3·1 + 0.2·(−3)) = 0.6 + 0.6 = 1.2
  const w = parseWeights('0.5,0.3,0.2', 2);
  const r = modpoPairLoss(beta, w, logps, { chosen: [1, -1], rejected: [0, 2] });
  close(r.logit, 1.2);
  close(r.loss, 0.263282);
});

test('the DPO-family form (scale β/w_k, per-pair offset) gives the same logit as the MODPO formula', () => {
  const w = parseWeights('0.3,0.45,0.25', 2);
  const margins = [
    { chosen: [0.7, -2], rejected: [-0.1, 1.5] },
    { chosen: [0, 0], rejected: [3, -3] },
  ];
  const terms = modpoDpoTerms(beta, w, margins);
  margins.forEach((m, i) => {
    const z = dpoLogit(logps, { beta, scale: terms.beta }, terms.offsets[i]);
    close(z, modpoPairLoss(beta, w, logps, m).logit, 1e-12);
    close(pairLoss(z), modpoPairLoss(beta, w, logps, m).loss, 1e-12);
  });
});

test('margins enter with the right sign: a margin model that already prefers the chosen response lowers z', () => {
  const w = parseWeights('0.4,0.6', 1);
  const none = modpoPairLoss(beta, w, logps, { chosen: [0], rejected: [0] });
  const agrees = modpoPairLoss(beta, w, logps, { chosen: [1], rejected: [0] });
  const disagrees = modpoPairLoss(beta, w, logps, { chosen: [0], rejected: [1] });
  // z = (β/w_k)Δh − (w_{-k}/w_k)Δm: with Δm = +1 the logit drops by 0.6/0.4 = 1.5
  close(none.logit - agrees.logit, 1.5);
  close(disagrees.logit - none.logit, 1.5);
  assert.ok(agrees.loss > none.loss && none.loss > disagrees.loss);
  // so the policy's implicit reward β·h must carry the margin objective too: to reach the same z
  // it needs a LARGER gap where the margin model prefers the chosen response (β·h learns w_k·r_k + w_{-k}·m)
  const gapFor = (dm: number) => (1 * w.trained + w.margins[0] * dm) / beta; // Δh solving z = 1
  assert.ok(gapFor(1) > gapFor(-1));
});

test('length-regularized DPO: z = β·Δh + α·(|y_w| − |y_l|), the notes value and the MODPO path agree', () => {
  const deltaH = logps.policyChosen - logps.refChosen - (logps.policyRejected - logps.refRejected);
  const r = lengthRegularizedLoss(beta, 0.01, deltaH, 100, 300);
  close(r.logit, -1.7);
  close(r.loss, 1.867786);
  // MODPO with w = (1, α) and m = −|y| is the same loss (w off the simplex, so built directly)
  const modpo = modpoPairLoss(beta, { trained: 1, margins: [0.01] }, logps, { chosen: [-100], rejected: [-300] });
  close(modpo.logit, -1.7);
  close(modpo.chosenReward, 1.1);
  close(modpo.rejectedReward, 2.8);
});

test('length regularization sign: a shorter chosen response costs more loss, so training must favour brevity', () => {
  const alpha = 0.05;
  // same preference gap, chosen shorter vs chosen longer
  const shortChosen = lengthRegularizedLoss(beta, alpha, 2, 10, 30);
  const longChosen = lengthRegularizedLoss(beta, alpha, 2, 30, 10);
  assert.ok(shortChosen.loss > longChosen.loss, 'a flipped sign would make verbose chosen responses costlier');
  assert.equal(lengthOffset(alpha, 10, 30), -1);
  assert.equal(lengthOffset(alpha, 30, 10), 1);
  // the gradient of the loss w.r.t. Δh is −β·σ(−z): larger (stronger push) when the chosen response is the shorter one
  const push = (z: number) => beta / (1 + Math.exp(z));
  assert.ok(push(shortChosen.logit) > push(longChosen.logit));
  assert.equal(lengthRegularizedLoss(beta, 0, 2, 10, 30).loss, lengthRegularizedLoss(beta, 0, 2, 30, 10).loss);
  assert.throws(() => checkLengthAlpha(-0.1), /length-alpha.*≥ 0/);
});

test('weights: must sum to 1, one per objective, w_k > 0', () => {
  assert.deepEqual(parseWeights('0.2,0.8', 1), { trained: 0.2, margins: [0.8] });
  assert.deepEqual(parseWeights('0.1,0.2,0.7', 2), { trained: 0.1, margins: [0.2, 0.7] });
  const bad = (text: string, margins: number, pattern: RegExp) =>
    assert.throws(
      () => parseWeights(text, margins),
      (e: unknown) => e instanceof AlignkitError && e.kind === 'input' && pattern.test(e.message),
    );
  bad('0.2,0.7', 1, /sum to 1.*0\.9/);
  bad('0.5,0.6', 1, /sum to 1/);
  bad('1,0.1', 1, /sum to 1/);
  bad('0.5,0.5', 2, /expected 3 weights.*2 margin models/);
  bad('0,1', 1, /must be > 0/);
  bad('1.2,-0.2', 1, /\[0, 1\]/);
  bad('0.5,x', 1, /comma-separated numbers/);
  bad('0.5,', 1, /comma-separated numbers/);
});

test('weight sweeps: ranges over w_k (w = 0 dropped), explicit vectors', () => {
  const r = parseWeightSweep('0:1:0.1', 1);
  assert.deepEqual(
    r.weights.map((w) => w.trained),
    [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1],
  );
  assert.deepEqual(
    r.weights.map((w) => w.margins[0]),
    [0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1, 0],
  );
  assert.deepEqual(r.dropped, [0]);
  assert.deepEqual(parseWeightSweep('0.2,0.8;0.6,0.4', 1).weights, [
    { trained: 0.2, margins: [0.8] },
    { trained: 0.6, margins: [0.4] },
  ]);
  assert.throws(() => parseWeightSweep('0:1:0.5', 2), /two objectives/);
  assert.throws(() => parseWeightSweep('0.5:0.2:0.1', 1), /START ≤ END/);
  assert.throws(() => parseWeightSweep('0.2,0.9;0.5,0.5', 1), /sum to 1/);
});
