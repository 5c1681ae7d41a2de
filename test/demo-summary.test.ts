/** The main job's statistics: standard errors across draws, the runs of a prompt, Spearman's ρ of the guides. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spearman } from '../src/demo/guide-quality.ts';
import { methodFigures } from '../src/demo/main-job-summary.ts';
import { DEFAULT_MAIN_JOB, methodRuns, type MethodRow } from '../src/demo/main-job.ts';

test("Spearman's ρ: scipy's documented example, ties by average rank, ±1, and NaN for a constant side", () => {
  // scipy.stats.spearmanr([1, 2, 3, 4, 5], [5, 6, 7, 8, 7]).statistic (the scipy docs' example)
  assert.ok(Math.abs(spearman([1, 2, 3, 4, 5], [5, 6, 7, 8, 7]) - 0.8207826816681233) < 1e-12);
  assert.equal(spearman([1, 2, 3], [10, 20, 30]), 1);
  assert.equal(spearman([1, 2, 3], [3, 2, 1]), -1);
  assert.ok(Number.isNaN(spearman([1, 2, 3], [0, 0, 0])));
});

test('a method figure is the mean of per-draw means ± their standard error across draws', () => {
  const row = (draw: number, gold: number): MethodRow => ({
    draw,
    method: 'w2s',
    budget: 16,
    prompt: 'p',
    index: 0,
    text: '',
    gold,
    baseLogprob: -1,
    tokensProcessed: 100,
    seconds: 0,
  });
  // draw means 0.2 and 0.4: mean 0.3, sample sd 0.1414…, s.e. 0.1
  const f = methodFigures([row(0, 0.1), row(0, 0.3), row(1, 0.4), row(1, 0.4)], 'w2s', 16);
  assert.deepEqual(
    f.perDraw.map((x) => Number(x.toFixed(12))),
    [0.2, 0.4],
  );
  assert.ok(Math.abs(f.gold - 0.3) < 1e-12 && Math.abs(f.goldError - 0.1) < 1e-12);
  assert.ok(Number.isNaN(methodFigures([row(0, 0.5)], 'w2s', 16).goldError), 'one draw has no standard error');
});

test('each prompt runs every method at the matched budget and Best-of-N / W2S at every budget of the curve', () => {
  const runs = methodRuns(DEFAULT_MAIN_JOB).map((r) => `${r.method}@${r.budget}`);
  assert.deepEqual(runs, ['sample@1', 'eft@1', 'ivg@16', 'bon@4', 'w2s@4', 'bon@16', 'w2s@16', 'bon@64', 'w2s@64']);
  assert.deepEqual(
    methodRuns({ ...DEFAULT_MAIN_JOB, budgets: [], only: ['w2s', 'ivg'] }).map((r) => `${r.method}@${r.budget}`),
    ['ivg@16', 'w2s@16'],
  );
});
