/**
 * AlpacaEval 2.0's official length-controlled fit against test/fixtures/lc-winrate-official.json:
 * a re-implementation of the official glm_winrate.py run with sklearn on synthetic preference sets
 * (see test/fixtures/lc-winrate-official.SOURCE.md for how it was produced).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fitL1Logistic } from '../src/eval/winrate/l1-logistic.ts';
import { groupKFoldOfEqualGroups, numpyArgsortOfEqualKeys } from '../src/eval/winrate/group-k-fold.ts';
import { C_GRID, officialLcWinRate, type LcVariant } from '../src/eval/winrate/official-lc.ts';
import { rawWinRate } from '../src/eval/winrate/glm.ts';
import { lengthControlled } from '../src/eval/winrate/length-controlled.ts';
import { loadPreferences } from '../src/eval/winrate/preferences.ts';
import { loadDifficulty, loadLcExtras } from '../src/eval/winrate/lc-inputs.ts';
import { run as cli } from '../src/cli/main.ts';
import { numpyRandintInt32Max } from '../src/util/mt19937.ts';
import { assertNamedError } from './helpers/named-error.ts';
import { tempDir } from './helpers/eval-fixtures.ts';
import { asProbability, comparisonsOf, fixtureSet, gamedOf, lcFixture, type FixtureSet } from './helpers/lc-fixture.ts';
import { ALIGNKIT } from './helpers/alignkit-cli.ts';

const runEval = (argv: readonly string[]) => cli(['eval', ...argv]);

const fixture = lcFixture;
const setNamed = fixtureSet;

test("numpy's argsort order of equal keys, GroupKFold's round robin, and sklearn's liblinear seeds", () => {
  for (const [n, order] of Object.entries(fixture.argsort_equal_keys))
    assert.deepEqual(numpyArgsortOfEqualKeys(Number(n)), order, `n = ${n}`);
  // the last group of the reversed order goes to fold 0, the one before to fold 1, …
  const folds = groupKFoldOfEqualGroups(17, 5);
  const reversed = [...fixture.argsort_equal_keys['17']].reverse();
  reversed.forEach((group, k) => assert.equal(folds[group], k % 5));
  assert.throws(() => groupKFoldOfEqualGroups(4, 5), /at least 5 groups/);
  assert.deepEqual(numpyRandintInt32Max(123, fixture.liblinear_seeds.length), fixture.liblinear_seeds);
  assert.deepEqual(C_GRID, fixture.cs);
});

test('L1 solver: iterates as liblinear at its default tolerance; at a tight one the optimum (KKT, saga)', () => {
  const { x, p, w, problems } = fixture.solver;
  const rows = p.flatMap((pi, i) => (pi === null ? [] : [i]));
  const problem = {
    x: [...rows.map((i) => x[i]), ...rows.map((i) => x[i])],
    y: [...rows.map(() => 1 as const), ...rows.map(() => 0 as const)],
    weight: [...rows.map((i) => p[i]! * w[i]), ...rows.map((i) => (1 - p[i]!) * w[i])],
  };
  const seed = fixture.liblinear_seeds[0];
  for (const ref of problems) {
    const fit = fitL1Logistic(problem, { C: ref.C, seed });
    fit.coef.forEach((c, j) =>
      assert.ok(
        Math.abs(c - ref.liblinear_default[j]) <= 1e-12 * (1 + Math.abs(c)),
        `C ${ref.C}: ${c} vs liblinear ${ref.liblinear_default[j]}`,
      ),
    );
    const tight = fitL1Logistic(problem, { C: ref.C, seed, tolerance: 1e-12, maxIterations: 2000 });
    tight.coef.forEach((c, j) => {
      assert.ok(Math.abs(c - ref.saga_tight[j]) < 1e-8, `C ${ref.C}: ${c} vs saga ${ref.saga_tight[j]}`);
      assert.ok(Math.abs(c - ref.liblinear_tight[j]) < 1e-8, `C ${ref.C}: ${c} vs liblinear ${ref.liblinear_tight[j]}`);
    });
    // optimality, from the loss gradient written out here: C·∂L/∂w_j = −sign(w_j) where w_j ≠ 0, |·| ≤ 1
    // where 0 — to rounding relative to the size of the gradient's terms, C·Σ s_i·|x_ij|
    tight.coef.forEach((c, j) => {
      let gradient = 0;
      let scale = 0;
      problem.x.forEach((xi, i) => {
        const q = 1 / (1 + Math.exp(-xi.reduce((s, v, k) => s + v * tight.coef[k], 0)));
        gradient += ref.C * problem.weight[i] * (q - problem.y[i]) * xi[j];
        scale += ref.C * problem.weight[i] * Math.abs(xi[j]);
      });
      const slack = 1e-9 * (1 + scale);
      if (c === 0) assert.ok(Math.abs(gradient) <= 1 + slack, `C ${ref.C}: zero weight ${j}, |gradient| ${gradient}`);
      else assert.ok(Math.abs(gradient + Math.sign(c)) <= slack, `C ${ref.C}: KKT of weight ${j}: ${gradient}`);
    });
  }
  assert.deepEqual(
    problems.map((r) => r.liblinear_tight.filter((c) => c === 0).length),
    [2, 1, 0, 0, 0],
    'zero, sparse and dense cases',
  );
});

test('official LC equals the reference re-implementation on every synthetic set and variant', () => {
  for (const set of fixture.sets) {
    const comparisons = comparisonsOf(set);
    for (const [variant, ref] of Object.entries(set.official) as [LcVariant, FixtureSet['official'][LcVariant]][]) {
      const r = officialLcWinRate(comparisons, { variant, gamed: gamedOf(set) });
      const what = `${set.name} ${variant}`;
      assert.ok(Math.abs(r.lcWinRate - ref.lc) < 1e-6, `${what}: LC ${r.lcWinRate} vs ${ref.lc}`);
      assert.ok(Math.abs(r.lcStandardError - ref.lc_se) < 1e-6, `${what}: s.e. ${r.lcStandardError} vs ${ref.lc_se}`);
      assert.equal(r.C, ref.best_c, `${what}: C`);
      r.cvScores.forEach((s, c) =>
        assert.ok(Math.abs(s - ref.cv_scores[c]) < 1e-9, `${what}: CV score of C ${C_GRID[c]}`),
      );
      const coef = [r.coef.length, ...(r.coef.difficulty === null ? [] : [r.coef.difficulty]), r.coef.notGamedBaseline];
      Object.values(ref.coef).forEach((c, j) => assert.ok(Math.abs(coef[j] - c) < 1e-9, `${what}: coefficient ${j}`));
    }
    // the raw win rate as AlpacaEval's get_winrate computes it
    const raw = rawWinRate(comparisons.flatMap((c) => (c.preference === null ? [] : [c.preference])));
    assert.ok(Math.abs(raw.winRate - set.raw.win_rate) < 1e-9, set.name);
    assert.ok(Math.abs(raw.standardError - set.raw.standard_error) < 1e-9, set.name);
    assert.ok(Math.abs(raw.discreteWinRate - set.raw.discrete_win_rate) < 1e-9, set.name);
    assert.deepEqual([raw.wins, raw.losses, raw.draws], [set.raw.n_wins, set.raw.n_wins_base, set.raw.n_draws]);
  }
  // the no-bias set with 30 % ties: cross-validation keeps the all-zero fit, LC exactly 50
  assert.equal(setNamed('no-bias-ties').official.length_controlled_minimal.lc, 50);
});

test('the richest variant the data supports is fitted and named; the model against itself is 50', () => {
  const set = setNamed('difficulty-gamed');
  const all = { comparisons: comparisonsOf(set), gamed: gamedOf(set) };
  const v1 = lengthControlled(all, 'official');
  assert.equal(v1.variant, 'length_controlled_v1');
  assert.ok(Math.abs(v1.lcWinRate! - set.official.length_controlled_v1.lc) < 1e-6);
  assert.match(v1.note, /length_controlled_v1.*leaderboard's variant/);
  assert.equal(lengthControlled({ comparisons: all.comparisons }, 'official').variant, 'length_controlled_noreg');
  const bare = all.comparisons.map(({ difficulty: _, ...c }) => c);
  const minimal = lengthControlled({ comparisons: bare }, 'official');
  assert.equal(minimal.variant, 'length_controlled_minimal');
  assert.match(minimal.note, /no instruction difficulty/);
  const mle = lengthControlled({ comparisons: bare }, 'mle');
  assert.equal(mle.variant, null);
  assert.match(mle.note, /maximum-likelihood/);
  assert.notEqual(mle.lcWinRate, minimal.lcWinRate);
  const itself = lengthControlled({ comparisons: bare, isBaseline: true }, 'official');
  assert.deepEqual([itself.lcWinRate, itself.lcStandardError], [50, 0]);
});

test('where the official fit cannot run, LC is null with the reason (never a made-up number)', () => {
  const few = Array.from({ length: 4 }, (_, i) => ({ preference: i % 2, modelLength: 10 + i, baselineLength: 12 }));
  const tooFew = lengthControlled({ comparisons: few }, 'official');
  assert.equal(tooFew.lcWinRate, null);
  assert.match(tooFew.error!, /needs at least 5 judged comparisons, got 4/);
  const sameLength = Array.from({ length: 8 }, (_, i) => ({ preference: i % 2, modelLength: 10, baselineLength: 10 }));
  assert.match(lengthControlled({ comparisons: sameLength }, 'official').error!, /std of the length difference is 0/);
});

test('a model that loses every comparison: alignkit fits LC ≈ 0 (the official code reports 50: sklearn flips the one class left)', () => {
  const comparisons = Array.from({ length: 40 }, (_, i) => ({
    preference: 0,
    modelLength: 50 + ((i * 37) % 90),
    baselineLength: 100,
  }));
  const lc = officialLcWinRate(comparisons, { variant: 'length_controlled_minimal' });
  assert.ok(lc.lcWinRate < 1, `LC ${lc.lcWinRate}`);
  assert.ok(lc.coef.notGamedBaseline < 0);
});

test('--preferences: AlpacaEval annotations with emoji and CJK are measured in code points; the official value comes back', (t) => {
  const set = setNamed('unicode-annotations');
  const dir = tempDir(t);
  const file = join(dir, 'annotations.json');
  writeFileSync(file, JSON.stringify(set.annotations));
  const loaded = loadPreferences(file);
  assert.equal(loaded.format, 'alpaca_eval');
  assert.deepEqual(
    loaded.rows.map((r) => r.modelLength),
    set.len_model,
  );
  assert.ok(
    loaded.rows.some((r, i) => (set.annotations![i].output_2 as string).length !== r.modelLength),
    'UTF-16 ≠ code points',
  );
  const lc = lengthControlled({ comparisons: loaded.rows }, 'official');
  assert.ok(Math.abs(lc.lcWinRate! - set.official.length_controlled_minimal.lc) < 1e-6);
  assert.deepEqual([loaded.model, loaded.baseline, loaded.isBaseline], ['model', 'baseline', false]);
});

test('--preferences files: bad records name the file, line and field', (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'prefs.jsonl');
  const write = (...records: object[]) => writeFileSync(file, records.map((r) => JSON.stringify(r)).join('\n'));
  const plain = { instruction: 'q', model_output: 'a', baseline_output: 'bb', preference: 1 };
  write(plain, { ...plain, preference: 1.5 });
  assertNamedError(
    () => loadPreferences(file),
    file,
    /line 2, field "preference": expected P\(model output preferred\) in \[0, 1\]/,
  );
  write({ instruction: 'q', output_1: 'a', output_2: 'b', preference: 3 });
  assertNamedError(() => loadPreferences(file), file, /line 1, field "preference": expected a preference in \[1, 2\]/);
  write({ instruction: 'q', answer: 'a', preference: 1 });
  assertNamedError(() => loadPreferences(file), file, /line 1: expected AlpacaEval annotation fields/);
  write({ ...plain, generator: 'm1' }, { ...plain, generator: 'm2' });
  assertNamedError(() => loadPreferences(file), file, /generator names 2 models/);
  write(plain, { instruction: 'q', output_1: 'a', output_2: 'b', preference: 1 });
  assertNamedError(() => loadPreferences(file), file, /line 2: this record is in the alpaca_eval layout/);
});

const alignkit = (...args: string[]) =>
  spawnSync(process.execPath, [...ALIGNKIT, 'eval', 'winrate', ...args], { encoding: 'utf8' });

test('CLI: eval winrate --preferences with --lc-gamed / --lc-difficulty gives the official v1 / noreg values', async (t) => {
  const dir = tempDir(t);
  const summaryOf = (out: string) => JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
  // the gamed set in AlpacaEval's annotation format, with df_gamed.csv beside it
  const gamedSet = setNamed('difficulty-gamed');
  const n = gamedSet.preference.length;
  const annotations = join(dir, 'annotations.json');
  writeFileSync(
    annotations,
    JSON.stringify(
      gamedSet.preference.map((preference, i) => ({
        instruction: `instruction ${i}`,
        output_1: 'b'.repeat(gamedSet.len_baseline[i]),
        output_2: 'm'.repeat(gamedSet.len_model[i]),
        generator_1: 'gpt4_1106_preview',
        generator_2: 'my-model',
        preference,
      })),
    ),
  );
  const gamedCsv = join(dir, 'df_gamed.csv');
  writeFileSync(
    gamedCsv,
    'model,index,preference,std_delta_len,instruction_difficulty,not_gamed_baseline\n' +
      gamedSet
        .gamed!.preference.map(
          (p, k) =>
            `${gamedSet.gamed!.models[Math.floor(k / n)]},${k % n},${p},${gamedSet.gamed!.std_delta_len[k]},${gamedSet.difficulty![k % n]},False`,
        )
        .join('\n'),
  );
  const v1 = join(dir, 'v1');
  const r = alignkit('--preferences', annotations, '--lc-gamed', gamedCsv, '--out', v1);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /length_controlled_v1/);
  const s1 = summaryOf(v1);
  assert.equal(s1.metrics.lc_fit, 'length_controlled_v1');
  assert.ok(Math.abs(s1.metrics.lc_win_rate - gamedSet.official.length_controlled_v1.lc) <= 0.005 + 1e-9);
  assert.equal(s1.metrics.model, 'my-model');
  assert.equal(readFileSync(join(v1, 'results.jsonl'), 'utf8').trim().split('\n').length, n);

  // the difficulty set as plain JSONL with instruction_difficulty.csv
  const set = setNamed('difficulty');
  const plain = join(dir, 'prefs.jsonl');
  writeFileSync(
    plain,
    set.preference
      .map((p, i) =>
        JSON.stringify({
          instruction: `instruction ${i}`,
          model_output: 'm'.repeat(set.len_model[i]),
          baseline_output: 'b'.repeat(set.len_baseline[i]),
          preference: asProbability(p),
        }),
      )
      .join('\n'),
  );
  const difficultyCsv = join(dir, 'instruction_difficulty.csv');
  writeFileSync(
    difficultyCsv,
    'index,instruction_difficulty\n' + set.difficulty!.map((d, i) => `${i},${d}`).join('\n'),
  );
  const noreg = join(dir, 'noreg');
  const r2 = alignkit('--preferences', plain, '--lc-difficulty', difficultyCsv, '--out', noreg);
  assert.equal(r2.status, 0, r2.stderr);
  const s2 = summaryOf(noreg);
  assert.equal(s2.metrics.lc_fit, 'length_controlled_noreg');
  assert.ok(Math.abs(s2.metrics.lc_win_rate - set.official.length_controlled_noreg.lc) <= 0.005 + 1e-9);
  assert.equal(s2.metrics.judge_failures, set.preference.filter((p) => p === null).length);

  // bad input names the flag, or the file, line and field
  await assert.rejects(
    runEval(['winrate', '--preferences', plain, '--judge', 'http://127.0.0.1:9/v1#j', '--out', join(dir, 'x')]),
    /--preferences holds judged comparisons already; it takes no --judge/,
  );
  writeFileSync(difficultyCsv, 'index,instruction_difficulty\n0,0.5\n1,oops\n');
  assertNamedError(
    () => loadDifficulty(difficultyCsv),
    difficultyCsv,
    /line 3, field "instruction_difficulty": expected a number, got "oops"/,
  );
  assert.throws(
    () => loadLcExtras({ difficultyFile: difficultyCsv, gamedFile: gamedCsv }),
    /give --lc-difficulty or --lc-gamed, not both/,
  );
});
