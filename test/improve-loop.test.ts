/**
 * `improve` end to end on stories260K (a 260K-parameter story model: it solves no math, so the
 * accuracies are ~0; the test checks the loop, not a gain) with a SYNTHETIC concept-labelled
 * benchmark (GSM8K questions with keyword-rule labels + hand-written Chinese items, see
 * test/helpers/concept-fixture.ts), a pool with planted duplicates of evaluation items, and a
 * scripted teacher that writes some malformed problems. Killed in the training stage and resumed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AlignkitError } from '../src/errors.ts';
import { loadModel } from '../src/lm/load.ts';
import type { LanguageModel } from '../src/lm/language-model.ts';
import { RunDir } from '../src/run/run-dir.ts';
import { loadConceptMath } from '../src/eval/conceptmath/data.ts';
import { DuplicateIndex } from '../src/eval/concepts/near-duplicates.ts';
import { splitBenchmark } from '../src/improve/benchmark-split.ts';
import { runImprove, type ImproveOptions } from '../src/improve/run-improve.ts';
import type { TrainingRecord } from '../src/eval/concepts/training-records.ts';

import { buildFixture, toJsonl } from './helpers/concept-fixture.ts';
import { ScriptedModel, SHARED, tempDir } from './helpers/eval-fixtures.ts';
import { run as cli } from '../src/cli/main.ts';

const improveCli = (argv: readonly string[]) => cli(['improve', ...argv]);

const STORIES = SHARED('stories260K', 'stories260K.bin');

/** A teacher that writes a well-formed English problem every other call, nonsense otherwise, and nothing usable for Chinese concepts. */
function scriptedTeacher(): ScriptedModel {
  let n = 0;
  return new ScriptedModel('scripted-teacher', (prompt) => {
    n++;
    if (prompt.includes('知识点')) return '我不知道。';
    return n % 2
      ? `Problem: A baker makes ${n} trays of ${n + 3} rolls each and sells ${n} rolls. How many rolls are left?\nSolution: ${n} × ${n + 3} = ${n * (n + 3)}, and ${n * (n + 3)} − ${n} = ${n * (n + 3) - n}.\nAnswer: ${n * (n + 3) - n}`
      : 'Here is a fun story about a baker!';
  });
}

function setup(t: { after: (fn: () => void) => void }) {
  const dir = tempDir(t, 'alignkit-improve-');
  const { benchmark, pool } = buildFixture(60);
  const benchmarkFile = join(dir, 'benchmark.jsonl');
  writeFileSync(benchmarkFile, toJsonl(benchmark));
  const items = loadConceptMath([benchmarkFile]);
  const { evaluation } = splitBenchmark(items, 0.5, 0);
  // planted: an exact copy and a re-cased, re-spaced copy of evaluation items, with worked solutions
  const planted = [
    { question: evaluation[0].question, answer: `Copied.\n#### ${evaluation[0].answer}` },
    {
      question: `  ${evaluation[1].question.toUpperCase().replace(/ /g, '  ')}`,
      answer: `Copied.\n#### ${evaluation[1].answer}`,
    },
  ];
  const poolFile = join(dir, 'pool.jsonl');
  writeFileSync(poolFile, toJsonl([...pool.slice(0, 150), ...planted]));
  return { dir, items, evaluation, poolFile, benchmarkFile, plantedLines: [151, 152] };
}

test('improve runs end to end, is killed while training, resumes, and reports before/after', async (t) => {
  const { dir, items, evaluation, poolFile, plantedLines } = setup(t);
  const opened: string[] = [];
  const openModel = (ref: string): Promise<LanguageModel> => {
    opened.push(ref);
    return loadModel(ref);
  };
  const teacher = scriptedTeacher();
  const out = join(dir, 'run');
  const options = (resume: boolean, onProgress?: ImproveOptions['onProgress']): ImproveOptions => ({
    modelPath: STORIES,
    openModel,
    benchmark: items,
    pools: [poolFile],
    teacher,
    weakest: 7,
    runDir: RunDir.create(out, { resume }),
    resume,
    referenceFraction: 0.5,
    minItems: 5,
    seed: 0,
    generation: { perConcept: 4, shots: 2, settings: { maxNewTokens: 64, temperature: 0.8 }, concurrency: 2 },
    generalRatio: 0.5,
    fineTune: {
      lr: 1e-3,
      epochs: 1,
      steps: 3,
      batchSize: 4,
      gradAccum: 1,
      maxLength: 512,
      schedule: 'constant',
      warmup: 0,
      maxGradNorm: 1,
      weightDecay: 0,
      seed: 0,
    },
    evaluation: { generation: { maxNewTokens: 12, temperature: 0 }, promptStyle: 'zs', concurrency: 2 },
    onProgress,
  });

  await assert.rejects(
    runImprove(
      options(false, (p) => {
        if (p.stage === 'train' && p.done >= 1) throw new Error('killed');
      }),
    ),
    /killed/,
  );
  const stages = JSON.parse(readFileSync(join(out, 'stages.json'), 'utf8'));
  assert.deepEqual(Object.keys(stages), ['before', 'data']);
  const teacherCalls = teacher.calls;
  assert.ok(teacherCalls > 0);
  await assert.rejects(
    runImprove(options(false)),
    (e: unknown) => e instanceof AlignkitError && /already holds an improve run; pass --resume/.test(e.message),
  );

  opened.length = 0;
  const result = await runImprove(options(true));
  assert.equal(teacher.calls, teacherCalls, 'the teacher is not asked again');
  assert.equal(opened.length, 1, 'only the fine-tuned model is opened (for the after evaluation)');
  assert.match(opened[0], /train[\\/]model$/);
  assert.deepEqual(Object.keys(JSON.parse(readFileSync(join(out, 'stages.json'), 'utf8'))), [
    'before',
    'data',
    'train',
    'after',
  ]);

  // training data: no evaluation item, the planted copies reported by pool line
  const records = readFileSync(join(out, 'data', 'train.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as TrainingRecord);
  const index = new DuplicateIndex(evaluation.map((i) => ({ key: i.key, text: i.question })));
  assert.ok(records.length > 0);
  assert.deepEqual(
    records.filter((r) => index.match(r.prompt[0].content)),
    [],
  );
  const removed = result.data.removed.map((r) => [r.origin, r.match.kind, r.match.key]);
  assert.deepEqual(removed, [
    [`${poolFile}:${plantedLines[0]}`, 'exact', evaluation[0].key],
    [`${poolFile}:${plantedLines[1]}`, 'exact', evaluation[1].key],
  ]);
  assert.ok(
    records.some((r) => r.source === 'retrieved') &&
      records.some((r) => r.source === 'generated') &&
      records.some((r) => r.source === 'general'),
  );

  // the teacher's nonsense is dropped and counted; Chinese concepts got nothing from the EN pool or the teacher: reported, skipped
  assert.equal(
    result.data.teacher!.dropped['no Problem/Solution/Answer sections'],
    result.data.teacher!.calls - result.data.teacher!.kept,
  );
  assert.ok(result.data.teacher!.kept > 0);
  const zh = result.data.weak.filter((c) => c.startsWith('synthetic_zh:'));
  assert.ok(zh.length > 0, 'the Chinese concepts are among the 7 targeted');
  for (const c of zh) assert.ok(result.data.emptyInPools.includes(c) && result.data.skipped.includes(c), c);

  // the paper-shaped table, per-concept rows, plots, report
  const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
  assert.equal(summary.kind, 'improve');
  assert.deepEqual(
    summary.tables[0].rows.map((r: unknown[]) => r[0]),
    ['weakest 7 (mean over concepts)', 'other concepts (mean over concepts)', 'overall (over items)'],
  );
  assert.equal(summary.tables[0].rows[2][2], evaluation.length);
  for (const row of summary.tables[0].rows)
    assert.ok(typeof row[3] === 'number' && typeof row[4] === 'number', 'before and after are numbers');
  assert.deepEqual(
    summary.plots[0].series.map((s: { name: string }) => s.name),
    ['before', 'after'],
  );
  assert.equal(summary.plots[1].series[0].points.length, 7);
  assert.ok(existsSync(join(out, 'after', 'results.jsonl')));
  assert.equal(
    readFileSync(join(out, 'after', 'results.jsonl'), 'utf8')
      .trim()
      .split('\n').length,
    evaluation.length,
    'after: the evaluation part only',
  );
  assert.equal(
    readFileSync(join(out, 'before', 'results.jsonl'), 'utf8')
      .trim()
      .split('\n').length,
    items.length,
    'before: the whole benchmark (ranking uses the reference part)',
  );
});

test('improve CLI: bad pools and benchmarks fail before any model work, naming file and line', async (t) => {
  const { dir, benchmarkFile } = setup(t);
  const badPool = join(dir, 'bad-pool.jsonl');
  writeFileSync(
    badPool,
    toJsonl([
      { question: 'q?', answer: 'steps\n#### 3' },
      { question: 'no marker', answer: '5' },
    ]),
  );
  const base = ['--model', STORIES, '--eval', benchmarkFile, '--out', join(dir, 'cli')];
  await assert.rejects(
    improveCli([...base, '--pool', badPool]),
    (e: unknown) => e instanceof AlignkitError && e.message.startsWith(`${badPool}, line 2, field "answer"`),
  );
  assert.ok(!existsSync(join(dir, 'cli', 'before')), 'no evaluation started');
  await assert.rejects(
    improveCli(['--model', STORIES, '--eval', 'conceptmath', '--pool', badPool, '--out', join(dir, 'cli2')]),
    /ConceptMath is not redistributable/,
  );
  await assert.rejects(
    improveCli([...base, '--pool', badPool, '--weakest', '0']),
    /--weakest expects a positive integer/,
  );
  await assert.rejects(
    improveCli([
      '--model',
      'http://localhost:1/v1#m',
      '--eval',
      benchmarkFile,
      '--pool',
      badPool,
      '--out',
      join(dir, 'cli3'),
    ]),
    /must be a local checkpoint/,
  );
});
