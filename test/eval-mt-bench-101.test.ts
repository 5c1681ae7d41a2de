import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { RunDir } from '../src/run/run-dir.ts';
import { Judge } from '../src/eval/judge.ts';
import { JudgeCache } from '../src/eval/judge-cache.ts';
import { judgedTurns, loadMtBench101, loadMtBenchResponses, type MtDialogue } from '../src/eval/mt-bench-101/data.ts';
import { judgeMessages } from '../src/eval/mt-bench-101/prompts.ts';
import { aggregateMtBench, parseRating, type TurnScore } from '../src/eval/mt-bench-101/score.ts';
import { runMtBench101 } from '../src/eval/mt-bench-101/run.ts';
import { MT_TASKS } from '../src/eval/mt-bench-101/taxonomy.ts';
import { AlignkitError } from '../src/errors.ts';
import { loadModel } from '../src/lm/load.ts';
import { SHARED, ScriptedModel, tempDir } from './helpers/eval-fixtures.ts';
import { STORIES, STORIES_TOKENIZER } from './helpers/serve-fixtures.ts';

const REAL = SHARED('mt-bench-101', 'mtbench101.jsonl');

test('real MT-Bench-101 file: 1,388 dialogues, 3,615 judged turns, per-task judged counts of the notes', () => {
  const dialogues = loadMtBench101(REAL);
  assert.equal(dialogues.length, 1388);
  const turns = dialogues.flatMap(judgedTurns);
  assert.equal(turns.length, 3615);
  const expected: Record<string, number> = {
    CM: 239,
    SI: 620,
    AR: 407,
    TS: 249,
    CC: 352,
    CR: 253,
    FR: 123,
    SC: 77,
    SA: 73,
    MR: 224,
    GR: 218,
    IC: 426,
    PI: 354,
  };
  for (const task of MT_TASKS) assert.equal(turns.filter((t) => t.task === task).length, expected[task], task);
});

const dialogue = (task: MtDialogue['task'], id: number, users: string[]): MtDialogue => ({
  task,
  id,
  history: users.map((u, i) => ({ user: u, bot: `golden reply ${id}.${i + 1}` })),
});

test('skip-first tasks judge from turn 2 with the golden turn 1 as context; others judge turn 1', () => {
  const cm = judgedTurns(dialogue('CM', 5, ['a', 'b', 'c']));
  assert.deepEqual(
    cm.map((t) => t.turn),
    [2, 3],
  );
  assert.deepEqual(cm[0].messages, [
    { role: 'user', content: 'a' },
    { role: 'assistant', content: 'golden reply 5.1' },
    { role: 'user', content: 'b' },
  ]);
  assert.equal(cm[1].golden, 'golden reply 5.3');
  for (const task of ['AR', 'CR', 'FR', 'SC', 'SA'] as const)
    assert.equal(judgedTurns(dialogue(task, 1, ['a', 'b']))[0].turn, 2, task);
  for (const task of ['SI', 'TS', 'CC', 'MR', 'GR', 'IC', 'PI'] as const)
    assert.equal(judgedTurns(dialogue(task, 1, ['a', 'b']))[0].turn, 1, task);
});

test('only MR and GR get a reference, and it is the golden reply of the judged turn alone', () => {
  const [, second] = judgedTurns(dialogue('MR', 9, ['first question', 'second question']));
  const [system, user] = judgeMessages(second, 'MODEL ANSWER');
  assert.equal(system.role, 'system');
  assert.match(system.content, /Rating: \[\[score\]\]/);
  const ref = /The reference solution is:\n###\n([\s\S]*)\n###/.exec(user.content);
  assert.ok(ref, 'reference section present');
  assert.equal(ref[1], 'golden reply 9.2');
  assert.ok(
    user.content.includes('Human: first question\n\nAssistant: golden reply 9.1'),
    'golden history in the transcript',
  );
  assert.ok(
    user.content.includes('Human: second question\n\nAssistant: MODEL ANSWER'),
    'prediction after the last user turn',
  );
  assert.ok(
    !user.content.split('The reference solution')[0].includes('golden reply 9.2'),
    "the judged turn's golden reply appears only as the reference",
  );
  const gr = judgeMessages(judgedTurns(dialogue('GR', 3, ['q']))[0], 'x')[1].content;
  assert.match(gr, /reference solution is:\n###\ngolden reply 3.1\n###/);
  for (const task of MT_TASKS.filter((t) => t !== 'MR' && t !== 'GR')) {
    const t = judgedTurns(dialogue(task, 1, ['a', 'b']))[0];
    assert.ok(!judgeMessages(t, 'x')[1].content.includes('reference solution'), task);
  }
});

test('rating parser: strict [[n]] with n an integer 1-10, last rating wins', () => {
  assert.deepEqual(parseRating('Good answer. Rating: [[7]]'), { value: 7 });
  assert.deepEqual(parseRating("Format is 'Rating: [[score]]'. My verdict: Rating: [[4]]"), { value: 4 });
  assert.deepEqual(parseRating('Rating: [[ 10 ]]'), { value: 10 });
  assert.deepEqual(parseRating('final [[3]]'), { value: 3 });
  for (const bad of [
    'Rating: [[7.5]]',
    'Rating: [[11]]',
    'Rating: [[0]]',
    'Rating: 7',
    'purple monkey dishwasher',
    '',
  ]) {
    assert.ok('error' in parseRating(bad), bad);
  }
});

test('aggregation: dialogue = min over judged turns, task = mean of dialogues, overall = mean of tasks; failures counted', () => {
  const t = (dialogueId: number, task: TurnScore['task'], turn: number, rating: number | null): TurnScore => ({
    dialogueId,
    task,
    turn,
    rating,
  });
  const s = aggregateMtBench([
    t(1, 'GR', 1, 8),
    t(1, 'GR', 2, 6),
    t(2, 'CM', 2, 9),
    t(2, 'CM', 3, 5),
    t(3, 'CM', 2, 7),
    t(4, 'SI', 1, 4),
    t(4, 'SI', 2, null),
    t(5, 'SI', 1, null),
  ]);
  const task = (name: string) => s.tasks.find((x) => x.task === name)!;
  assert.equal(task('GR').score, 6);
  assert.equal(task('CM').score, 6); // (5 + 7) / 2
  assert.equal(task('SI').score, 4); // dialogue 4 = 4 (failed turn left out), dialogue 5 has no score
  assert.equal(task('SI').scoredDialogues, 1);
  assert.equal(task('SI').failedTurns, 2);
  assert.equal(s.failedTurns, 2);
  assert.ok(Math.abs(s.overall! - 16 / 3) < 1e-12);
  assert.equal(s.tasksScored, 3);
  assert.equal(s.abilities.find((a) => a.name === 'Reasoning')!.score, 6);
  assert.equal(s.abilities.find((a) => a.name === 'Understanding')!.score, 4);
  assert.equal(s.abilities.find((a) => a.name === 'Questioning')!.score, null);
  assert.ok(Math.abs(s.categories.find((c) => c.name === 'Perceptivity')!.score! - 5) < 1e-12); // mean(CM 6, SI 4)
  const all = aggregateMtBench(MT_TASKS.map((task, i) => t(i + 1, task, 2, 7)));
  assert.equal(all.overall, 7);
});

// The scripted model answers "R=<n>" where n is the number after "score" in the last user message;
// the scripted judge rates the prediction R=<n> with [[n]] and talks nonsense for R=0.
const data: MtDialogue[] = [
  dialogue('GR', 1, ['score 8', 'score 6']),
  dialogue('CM', 2, ['score 1', 'score 9', 'score 5']),
  dialogue('CM', 3, ['score 1', 'score 7']),
  dialogue('SI', 4, ['score 4', 'score 0']),
];
const makeModel = (options = {}) =>
  new ScriptedModel('scripted-model', (prompt) => `R=${[...prompt.matchAll(/score (\d+)/g)].pop()![1]}`, options);
const makeJudgeModel = (options = {}) =>
  new ScriptedModel(
    'scripted-judge',
    (prompt) => {
      const n = Number([...prompt.matchAll(/R=(\d+)/g)].pop()![1]);
      return n === 0 ? 'I like turtles.' : `The reply is fine. Rating: [[${n}]]`;
    },
    options,
  );

function writeData(dir: string): string {
  const file = join(dir, 'mt.jsonl');
  writeFileSync(file, data.map((d) => JSON.stringify(d)).join('\n') + '\n');
  return file;
}

test('end to end on synthetic dialogues: scores, recorded judge failure with bounded retries, summary', async (t) => {
  const dir = tempDir(t);
  const dialogues = loadMtBench101(writeData(dir));
  const model = makeModel({ async: true });
  const judgeModel = makeJudgeModel({ async: true });
  const judge = new Judge(judgeModel, { maxAttempts: 3 }, new JudgeCache(join(dir, 'cache')));
  const run = await runMtBench101({ dialogues, runDir: RunDir.create(join(dir, 'out')), model, judge, concurrency: 3 });
  assert.equal(model.calls, 7);
  assert.equal(judgeModel.calls, 6 + 3, 'six judgements plus three attempts on the nonsense one');
  assert.ok(
    model.peakInFlight + judgeModel.peakInFlight > 1 && model.peakInFlight <= 3 && judgeModel.peakInFlight <= 3,
  );
  assert.ok(!model.prompts.some((p) => p.includes('R=')), 'the model never sees its own earlier replies');
  const s = run.scores!;
  assert.deepEqual(Object.fromEntries(s.tasks.map((x) => [x.task, x.score])), { CM: 6, SI: 4, GR: 6 });
  assert.ok(Math.abs(s.overall! - 16 / 3) < 1e-12);
  assert.equal(run.failures.length, 1);
  assert.equal(run.failures[0].key, '4:2');
  assert.equal(run.failures[0].raws.length, 3);
  assert.equal(run.summary.metrics!.judge_failures, 1);
  assert.ok(run.summary.tables.some((tb) => tb.title.startsWith('Judge failures (1)') && tb.rows[0][0] === '4:2'));
  assert.deepEqual(
    run.summary.plots.map((p) => p.type),
    ['radar', 'bar'],
  );
  const results = readFileSync(join(dir, 'out', 'results.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  assert.equal(results.length, 7);
  assert.equal(results.find((r) => r.key === '4:2').rating, null);
});

test('a warm cache makes zero judge calls; given responses make zero model calls', async (t) => {
  const dir = tempDir(t);
  const dialogues = loadMtBench101(writeData(dir));
  const cache = join(dir, 'cache');
  await runMtBench101({
    dialogues,
    runDir: RunDir.create(join(dir, 'a')),
    model: makeModel(),
    judge: new Judge(makeJudgeModel(), {}, new JudgeCache(cache)),
    concurrency: 2,
  });
  const model = makeModel();
  const judgeModel = makeJudgeModel();
  const again = await runMtBench101({
    dialogues,
    runDir: RunDir.create(join(dir, 'b')),
    model,
    judge: new Judge(judgeModel, {}, new JudgeCache(cache)),
    concurrency: 2,
  });
  assert.equal(judgeModel.calls, 0);
  assert.equal(model.calls, 7);
  const judgeModel2 = makeJudgeModel();
  const scored = await runMtBench101({
    dialogues,
    runDir: RunDir.create(join(dir, 'c')),
    judge: new Judge(judgeModel2, {}, new JudgeCache(cache)),
    responses: loadMtBenchResponses(join(dir, 'a', 'responses.jsonl')),
    concurrency: 2,
  });
  assert.equal(judgeModel2.calls, 0);
  assert.deepEqual(scored.scores!.tasks, again.scores!.tasks);
});

test('an endpoint that goes down mid-run stops the run; --resume finishes without repeating or losing judgements', async (t) => {
  const dir = tempDir(t);
  const dialogues = loadMtBench101(writeData(dir));
  const out = join(dir, 'out');
  const cache = join(dir, 'cache');
  const judgeModel = makeJudgeModel();
  await assert.rejects(
    runMtBench101({
      dialogues,
      runDir: RunDir.create(out),
      model: makeModel({ failFromCall: 4 }),
      judge: new Judge(judgeModel, {}, new JudgeCache(cache)),
      concurrency: 1,
    }),
    (e: unknown) => e instanceof AlignkitError && e.kind === 'backend',
  );
  assert.equal(readFileSync(join(out, 'results.jsonl'), 'utf8').trim().split('\n').length, 3);
  assert.throws(() => RunDir.create(out), /--resume/);
  const judgeModel2 = makeJudgeModel();
  const model2 = makeModel();
  const run = await runMtBench101({
    dialogues,
    runDir: RunDir.create(out, { resume: true }),
    model: model2,
    judge: new Judge(judgeModel2, {}, new JudgeCache(cache)),
    concurrency: 2,
  });
  assert.equal(model2.calls, 4);
  assert.equal(judgeModel.calls + judgeModel2.calls, 9, 'every judgement made exactly once overall');
  const keys = readFileSync(join(out, 'results.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l).key);
  assert.equal(keys.length, 7);
  assert.equal(new Set(keys).size, 7);
  assert.ok(Math.abs(run.scores!.overall! - 16 / 3) < 1e-12);

  // killed after the judge answered but before the result line was written: the cache covers it
  const lines = readFileSync(join(out, 'results.jsonl'), 'utf8').trim().split('\n');
  writeFileSync(join(out, 'results.jsonl'), lines.slice(0, -1).join('\n') + '\n' + lines.at(-1)!.slice(0, 10));
  const judgeModel3 = makeJudgeModel();
  const model3 = makeModel();
  const resumed = await runMtBench101({
    dialogues,
    runDir: RunDir.create(out, { resume: true }),
    model: model3,
    judge: new Judge(judgeModel3, {}, new JudgeCache(cache)),
    concurrency: 2,
  });
  assert.equal(judgeModel3.calls + model3.calls, 0);
  assert.equal(readFileSync(join(out, 'results.jsonl'), 'utf8').trim().split('\n').length, 7);
  assert.deepEqual(resumed.scores!.tasks, run.scores!.tasks);
});

test('generate only (no judge): responses.jsonl streamed, nothing scored; resuming generates nothing twice', async (t) => {
  const dir = tempDir(t);
  const dialogues = loadMtBench101(writeData(dir));
  const model = makeModel();
  const run = await runMtBench101({ dialogues, runDir: RunDir.create(join(dir, 'out')), model, concurrency: 2 });
  assert.equal(model.calls, 7);
  assert.equal(run.scores, undefined);
  assert.equal(run.summary.metrics!.responses, 7);
  assert.equal(
    readFileSync(join(dir, 'out', 'responses.jsonl'), 'utf8')
      .trim()
      .split('\n').length,
    7,
  );
  assert.ok(!existsSync(join(dir, 'out', 'results.jsonl')));
  const again = makeModel();
  await runMtBench101({
    dialogues,
    runDir: RunDir.create(join(dir, 'out'), { resume: true }),
    model: again,
    concurrency: 2,
  });
  assert.equal(again.calls, 0);
});

test('a dataset line with a missing field names the file, line and field', (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'bad.jsonl');
  writeFileSync(
    file,
    [JSON.stringify(data[0]), JSON.stringify({ task: 'CM', id: 7, history: [{ user: 'hi' }] })].join('\n'),
  );
  assert.throws(
    () => loadMtBench101(file),
    (e: unknown) => e instanceof AlignkitError && e.message.includes(`${file}, line 2, field "history[0].bot"`),
  );
  writeFileSync(file, JSON.stringify({ id: 7, history: [] }));
  assert.throws(() => loadMtBench101(file), /line 1, field "task"/);
});

test("a dialogue longer than the model's context is recorded as a failed turn, and the run goes on", async (t) => {
  const dir = tempDir(t);
  const stories = await loadModel(STORIES, { tokenizer: STORIES_TOKENIZER });
  t.after(() => stories.dispose());
  const long = 'Lily and Tom played in the park all day long. '.repeat(60); // ≈ 700 tokens > 512
  const dialogues: MtDialogue[] = [
    dialogue('GR', 1, ['Once upon a time', 'What happened next?']),
    dialogue('CM', 2, ['Tell me about a cat.', long]),
  ];
  const judge = new ScriptedModel('judge', () => 'Fine. Rating: [[5]]');
  const options = {
    dialogues,
    model: stories,
    judge: new Judge(judge, {}, new JudgeCache(join(dir, 'cache'))),
    generation: { maxNewTokens: 8, temperature: 0 },
    concurrency: 2,
  };
  const run = await runMtBench101({ ...options, runDir: RunDir.create(join(dir, 'out')) });
  assert.equal(run.summary.metrics!.generation_failures, 1);
  assert.equal(run.summary.metrics!.judged_turns, 2, 'the other turns are judged');
  const table = run.summary.tables.find((tb) => tb.title === 'Generation failures (1)')!;
  assert.equal(table.rows[0][0], '2:2');
  assert.match(String(table.rows[0][1]), /tokens; the model's context is 512/);
  const recorded = readFileSync(join(dir, 'out', 'responses.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  assert.ok(recorded.some((r) => r.key === '2:2' && typeof r.error === 'string' && r.response === undefined));
  // a resumed run does not try the failed turn again, and still counts it
  const calls = judge.calls;
  const resumed = await runMtBench101({ ...options, runDir: RunDir.create(join(dir, 'out'), { resume: true }) });
  assert.equal(judge.calls, calls);
  assert.equal(resumed.summary.metrics!.generation_failures, 1);
});
