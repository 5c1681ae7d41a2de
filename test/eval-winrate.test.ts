import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { RunDir } from '../src/run/run-dir.ts';
import { AlignkitError } from '../src/errors.ts';
import { Judge } from '../src/eval/judge.ts';
import { JudgeCache } from '../src/eval/judge-cache.ts';
import { fitLogistic, lengthControlledWinRate, rawWinRate } from '../src/eval/winrate/glm.ts';
import { parseVerdict } from '../src/eval/winrate/prompts.ts';
import { loadBaselineOutputs, loadModelOutputs } from '../src/eval/winrate/data.ts';
import { runWinrate } from '../src/eval/winrate/run.ts';
import { ScriptedModel, tempDir } from './helpers/eval-fixtures.ts';

const close = (a: number, b: number, tol = 1e-9) => assert.ok(Math.abs(a - b) < tol, `${a} vs ${b}`);
const repeat = <T>(n: number, f: (i: number) => T) => Array.from({ length: n }, (_, i) => f(i));

test('logistic fit by Newton: intercept only gives logit(mean); a ±1 feature gives the two group logits', () => {
  const intercept = fitLogistic([1, 1, 1, 0].map((y) => ({ x: [1], y })));
  close(intercept.coef[0], Math.log(3));
  assert.ok(intercept.converged);
  // group +1: soft labels averaging 0.9; group -1: 0.5 → φ+θ = ln 9, φ-θ = 0
  const rows = [
    ...repeat(10, (i) => ({ x: [1, 1], y: i < 9 ? 1 : 0 })),
    ...repeat(4, (i) => ({ x: [1, -1], y: i < 2 ? 0.75 : 0.25 })),
  ];
  const fit = fitLogistic(rows);
  close(fit.coef[0], Math.log(3));
  close(fit.coef[1], Math.log(3));
  // weights count like duplicated rows
  close(
    fitLogistic([
      { x: [1], y: 1, w: 3 },
      { x: [1], y: 0, w: 1 },
    ]).coef[0],
    Math.log(3),
  );
  // separable data diverge without a penalty and stay finite with one
  assert.throws(
    () =>
      fitLogistic(
        [
          { x: [1], y: 1 },
          { x: [1], y: 1 },
        ],
        { maxIterations: 2000 },
      ),
    /diverged|singular/,
  );
  assert.ok(Number.isFinite(fitLogistic([{ x: [1], y: 1 }], { l2: 0.1 }).coef[0]));
});

test('length-controlled win rate on a hand-checkable case: LC = σ((logit p₊ + logit p₋)/2)', () => {
  // 10 instructions where the model is 100 chars shorter (wins 9), 10 where it is 100 chars longer (wins 5)
  const shorter = repeat(10, (i) => ({ p: i < 9 ? 1 : 0, modelLength: 100, baselineLength: 200 }));
  const longer = repeat(10, (i) => ({ p: i < 5 ? 1 : 0, modelLength: 300, baselineLength: 200 }));
  const lc = lengthControlledWinRate([...shorter, ...longer], { l2: 0 });
  close(lc.lcWinRate, 75, 1e-6); // φ = (ln 9 + 0)/2 = ln 3 → σ = 3/4
  close(lc.lengthStd, 100 * Math.sqrt(20 / 19));
  assert.equal(lc.usedDifficulty, false);
  assert.equal(rawWinRate([...shorter, ...longer].map((r) => r.p)).winRate, 70);
  close(lengthControlledWinRate([...shorter, ...longer]).lcWinRate, 75, 0.1); // default small L2
  // no length differences: LC is the raw win rate
  close(
    lengthControlledWinRate(
      repeat(5, (i) => ({ p: i < 3 ? 1 : 0, modelLength: 50, baselineLength: 50 })),
      { l2: 0 },
    ).lcWinRate,
    60,
    1e-6,
  );
  // with difficulty for every instruction, the γ term is used
  assert.equal(
    lengthControlledWinRate([...shorter, ...longer].map((r, i) => ({ ...r, p: 0.5, difficulty: i % 2 })))
      .usedDifficulty,
    true,
  );
});

test('raw win rate: mean preference, standard error, discrete counts', () => {
  const r = rawWinRate([1, 0, 0.5, 1]);
  assert.equal(r.winRate, 62.5);
  assert.deepEqual([r.wins, r.losses, r.draws], [2, 1, 1]);
  close(r.standardError, (100 * Math.sqrt((0.375 ** 2 * 2 + 0.625 ** 2 + 0.125 ** 2) / 3)) / 2);
});

test('verdict parser', () => {
  assert.deepEqual(parseVerdict('[[b]]'), { value: 'b' });
  assert.deepEqual(parseVerdict('Output (a) is more accurate. [[a]]'), { value: 'a' });
  assert.deepEqual(parseVerdict(' B. '), { value: 'b' });
  assert.deepEqual(parseVerdict('Output (a)'), { value: 'a' });
  for (const bad of ['both are good', '[[c]]', '']) assert.ok('error' in parseVerdict(bad), bad);
});

const INSTRUCTIONS = [
  'Name a color.',
  'Say hi.',
  'Count to three.',
  'Give a fruit.',
  'Name an animal.',
  'Explain rain.',
];

function writeBaseline(
  dir: string,
  rows = INSTRUCTIONS.map((instruction) => ({
    instruction,
    output: `baseline answer to: ${instruction}`,
    generator: 'base-v1',
  })),
): string {
  const file = join(dir, 'baseline.json');
  writeFileSync(file, JSON.stringify(rows));
  return file;
}

// a judge that prefers the longer output, and talks nonsense about rain
const lengthJudge = () =>
  new ScriptedModel('length-judge', (prompt) => {
    if (prompt.includes('Explain rain.')) return 'Clouds are nice.';
    const a = /## Output \(a\)\n\n([\s\S]*?)\n\n## Output \(b\)/.exec(prompt)![1];
    const b = /## Output \(b\)\n\n([\s\S]*?)\n\n## Task/.exec(prompt)![1];
    return a.length >= b.length ? '[[a]]' : '[[b]]';
  });

test('end to end: judged pairs, raw and LC win rates, lengths, a recorded failure, both orders', async (t) => {
  const dir = tempDir(t);
  const examples = loadBaselineOutputs(writeBaseline(dir));
  // the model is long on the first three instructions, short on the others
  const model = new ScriptedModel('m', (prompt) => {
    const i = INSTRUCTIONS.findIndex((s) => prompt.includes(s));
    return i < 3 ? 'x'.repeat(80) : 'y';
  });
  const judgeModel = lengthJudge();
  const run = await runWinrate({
    examples,
    runDir: RunDir.create(join(dir, 'out')),
    model,
    judge: new Judge(judgeModel, { maxAttempts: 2 }, new JudgeCache(join(dir, 'cache'))),
    order: 'both',
    concurrency: 3,
  });
  assert.equal(run.raw!.winRate, 60); // 3 wins of 5 judged
  assert.equal(run.failures.length, 1);
  assert.equal(
    judgeModel.calls,
    5 * 2 + 2,
    'two orders for five instructions; the failing one stops after its first order fails twice',
  );
  assert.equal(run.summary.metrics!.n, 5);
  assert.equal(run.summary.metrics!.avg_length_model, round1((80 * 3 + 2) / 5));
  assert.ok(typeof run.summary.metrics!.lc_win_rate === 'number');
  // the official fit by default; no difficulty data, so its minimal variant, named in the summary
  assert.equal(run.summary.metrics!.lc_fit, 'length_controlled_minimal');
  assert.match(run.summary.tables[0].note!, /official length_controlled_minimal: .* no instruction difficulty/);
  assert.equal(run.summary.tables[0].rows[0][1], 'base-v1');
});
const round1 = (x: number) => Math.round(x * 10) / 10;

test('position bias: a judge that always picks the first output gives 50 % with both orders', async (t) => {
  const dir = tempDir(t);
  const examples = loadBaselineOutputs(writeBaseline(dir)).slice(0, 5);
  const outputs = join(dir, 'model.jsonl');
  writeFileSync(
    outputs,
    INSTRUCTIONS.map((instruction) => JSON.stringify({ instruction, output: 'model says something' })).join('\n'),
  );
  const responses = loadModelOutputs(outputs);
  const firstJudge = () => new Judge(new ScriptedModel('first', () => '[[a]]'));
  const both = await runWinrate({
    examples,
    responses,
    runDir: RunDir.create(join(dir, 'both')),
    judge: firstJudge(),
    order: 'both',
    concurrency: 2,
  });
  assert.equal(both.raw!.winRate, 50);
  assert.equal(both.raw!.draws, 5);
  const one = await runWinrate({
    examples,
    responses,
    runDir: RunDir.create(join(dir, 'one')),
    judge: firstJudge(),
    order: 'random',
    concurrency: 2,
  });
  assert.deepEqual([one.raw!.draws, one.raw!.wins + one.raw!.losses], [0, 5]);
});

test('a baseline record without an output names the file and element', (t) => {
  const dir = tempDir(t);
  const file = writeBaseline(dir, [{ instruction: 'a', output: 'b', generator: 'g' }, { instruction: 'c' } as any]);
  assert.throws(
    () => loadBaselineOutputs(file),
    (e: unknown) =>
      e instanceof AlignkitError && e.message === `${file}, field "[1].output": missing field (expected a string)`,
  );
});

test('a difficulty file that lacks an instruction is refused before any judging', async (t) => {
  const dir = tempDir(t);
  const examples = loadBaselineOutputs(writeBaseline(dir));
  const judgeModel = new ScriptedModel('judge', () => '[[a]]');
  await assert.rejects(
    runWinrate({
      examples,
      responses: new Map(examples.map((e) => [e.key, { key: e.key, response: 'r' }])),
      runDir: RunDir.create(join(dir, 'out')),
      judge: new Judge(judgeModel),
      concurrency: 1,
      lc: { extras: { difficulty: new Map([[0, 0.5]]), difficultySource: 'difficulty.csv' } },
    }),
    /difficulty\.csv: no instruction_difficulty for instruction 1/,
  );
  assert.equal(judgeModel.calls, 0);
});
