/**
 * The iLR-DPO paper's finding on stories260K, measured as an α sweep over seeds
 * (ALIGNKIT_LONG_TESTS=1, 4 minutes on 2 idle cores, about 20 on the shared machine): iterative DPO on a sentiment reward
 * raises the reward and the response length together (VADER's compound score grows with the
 * number of positive words, so the longer sample tends to win); the length margin α holds the
 * length back. One α that keeps the length flat does not survive a change of seed (an earlier
 * single-seed sweep: α 0.05 → +12 %, 0.07 → +3 %, 0.1 → −24 %; another seed at 0.07: −39 %), so the
 * test asserts what holds on every seed: α = 0 lengthens the responses and raises the reward; the
 * final length falls as α grows (α 0.1 ends shorter than π₀); with α 0.05 the reward still rises.
 * ALIGNKIT_RESULTS_OUT=DIR keeps the sweep's summary.json and report.html in DIR/ilr-dpo (the README's
 * table: `npm run readme -- --record ilr-dpo DIR/ilr-dpo "…"`).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { longTests } from './helpers/stories-data.ts';
import { storyPrompts, trainEosModel } from './helpers/preference-fixtures.ts';
import { changes, ilrDpoCurve, ILR_SETTINGS, writeSweep, type SweepCurve } from './helpers/ilr-dpo-sweep.ts';

const skip = !longTests && 'set ALIGNKIT_LONG_TESTS=1 (about 4 minutes)';

export const ALPHAS = [0, 0.05, 0.1];
export const SEEDS = [1, 2, 3];

test(
  'iLR-DPO over 3 seeds: α = 0 raises reward and length; the length falls as α grows; α 0.05 still raises the reward',
  { skip, timeout: 60 * 60_000 },
  async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'alignkit-ilr-long-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const sft = await trainEosModel(dir);
    const prompts = join(dir, 'prompts.txt');
    const evalPrompts = join(dir, 'eval.txt');
    writeFileSync(prompts, storyPrompts(64).join('\n') + '\n');
    writeFileSync(evalPrompts, storyPrompts(32, 400).join('\n') + '\n');
    const curves: SweepCurve[] = [];
    for (const seed of SEEDS)
      for (const alpha of ALPHAS) {
        const c = await ilrDpoCurve(sft, prompts, evalPrompts, alpha, seed, join(dir, `alpha-${alpha}-seed-${seed}`));
        t.diagnostic(
          `α ${alpha}, seed ${seed}: ${c.iterations.map((x) => `π_${x.iteration} reward ${x.reward.toFixed(3)} length ${x.length.toFixed(1)}`).join('; ')}`,
        );
        curves.push(c);
      }
    const keep = process.env.ALIGNKIT_RESULTS_OUT;
    writeSweep(keep ? join(keep, 'ilr-dpo') : join(dir, 'sweep'), curves, {
      ...ILR_SETTINGS,
      alphas: ALPHAS,
      seeds: SEEDS,
      prompts: 64,
      evalPrompts: 32,
      reward: 'sentiment (VADER)',
    });
    for (const seed of SEEDS) {
      const at = (alpha: number) => changes(curves.find((c) => c.alpha === alpha && c.seed === seed)!);
      const percent = (x: number) => `${(100 * x).toFixed(0)} %`;
      const plain = at(0);
      assert.ok(plain.reward > 0.05, `seed ${seed}: iterative DPO raises the reward (${plain.reward.toFixed(3)})`);
      assert.ok(plain.length > 0.05, `seed ${seed}: and the length (${percent(plain.length)})`);
      for (let i = 1; i < ALPHAS.length; i++)
        assert.ok(
          at(ALPHAS[i]).length < at(ALPHAS[i - 1]).length,
          `seed ${seed}: α ${ALPHAS[i]} ends shorter than α ${ALPHAS[i - 1]} (${percent(at(ALPHAS[i]).length)} vs ${percent(at(ALPHAS[i - 1]).length)})`,
        );
      assert.ok(
        at(0.05).reward > 0.05,
        `seed ${seed}: with α 0.05 the reward still rises (${at(0.05).reward.toFixed(3)})`,
      );
      assert.ok(at(0.1).length < 0, `seed ${seed}: α 0.1 shortens the responses (${percent(at(0.1).length)})`);
    }
  },
);
