/**
 * `alignkit concepts classify|retrieve|generate`, each on its own, on the SYNTHETIC
 * concept-labelled benchmark of test/helpers/concept-fixture.ts (GSM8K questions with keyword-rule
 * labels + hand-written Chinese items). The generate teacher is stories260K: a real model that
 * writes stories, not problems, so every reply is dropped and counted.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AlignkitError } from '../src/errors.ts';

import { buildFixture, toJsonl } from './helpers/concept-fixture.ts';
import { SHARED, tempDir } from './helpers/eval-fixtures.ts';
import { run as cli } from '../src/cli/main.ts';

const concepts = (argv: readonly string[]) => cli(['concepts', ...argv]);

const STORIES = SHARED('stories260K', 'stories260K.bin');
const lines = (file: string) =>
  readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));
const quietly = async <T>(fn: () => Promise<T>): Promise<T> => {
  const log = console.log;
  console.log = () => undefined;
  try {
    return await fn();
  } finally {
    console.log = log;
  }
};

function files(t: { after: (fn: () => void) => void }) {
  const dir = tempDir(t, 'alignkit-concepts-');
  const { benchmark, pool } = buildFixture(150);
  const benchmarkFile = join(dir, 'benchmark.jsonl');
  writeFileSync(benchmarkFile, toJsonl(benchmark));
  const poolFile = join(dir, 'pool.jsonl');
  writeFileSync(
    poolFile,
    toJsonl([
      ...pool.slice(0, 300),
      { question: benchmark[3].question, answer: `Copied.\n#### ${benchmark[3].answer}` },
    ]),
  );
  return { dir, benchmark, benchmarkFile, poolFile };
}

test('classify: labels every input, scores itself against the majority baseline, saves and reuses the classifier', async (t) => {
  const { dir, benchmarkFile, poolFile } = files(t);
  const saved = join(dir, 'classifier.json');
  assert.equal(
    await quietly(() =>
      concepts([
        'classify',
        '--eval',
        benchmarkFile,
        '--input',
        poolFile,
        '--out',
        join(dir, 'c1'),
        '--save-classifier',
        saved,
      ]),
    ),
    0,
  );
  const rows = lines(join(dir, 'c1', 'results.jsonl'));
  assert.equal(rows.length, 301);
  assert.ok(
    rows.every(
      (r) => typeof r.concept === 'string' && r.probability > 0 && r.top.length === 3 && r.id.startsWith(poolFile),
    ),
  );
  const summary = JSON.parse(readFileSync(join(dir, 'c1', 'summary.json'), 'utf8'));
  assert.ok(summary.metrics.heldout_accuracy > summary.metrics.majority_baseline, JSON.stringify(summary.metrics));
  assert.ok(existsSync(join(dir, 'c1', 'report.html')));
  await quietly(() =>
    concepts([
      'classify',
      '--eval',
      benchmarkFile,
      '--input',
      poolFile,
      '--out',
      join(dir, 'c2'),
      '--classifier',
      saved,
    ]),
  );
  assert.deepEqual(
    lines(join(dir, 'c2', 'results.jsonl')).map((r) => r.concept),
    rows.map((r) => r.concept),
  );
});

test('retrieve: problems of the named concepts as SFT data; a concept absent from the pools is reported; benchmark copies removed', async (t) => {
  const { dir, benchmark, benchmarkFile, poolFile } = files(t);
  const out = join(dir, 'r');
  await quietly(() =>
    concepts([
      'retrieve',
      '--eval',
      benchmarkFile,
      '--pool',
      poolFile,
      '--concept',
      'Calculate/Percents/Percent of a number',
      '--concept',
      'synthetic_zh:几何/面积/长方形的面积',
      '--per-concept',
      '10',
      '--min-items',
      '3',
      '--out',
      out,
    ]),
  );
  const rows = lines(join(out, 'results.jsonl'));
  assert.ok(rows.length > 0 && rows.length <= 10);
  assert.ok(rows.every((r) => r.concept === 'synthetic_en:Calculate/Percents/Percent of a number'));
  assert.equal(lines(join(out, 'train.jsonl')).length, rows.length);
  assert.ok(!rows.some((r) => r.question === benchmark[3].question));
  const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
  assert.equal(summary.metrics.concepts_without_problems, 1);
  assert.match(
    summary.tables[0].note,
    /No pool problem is classified as: synthetic_zh:几何\/面积\/长方形的面积 \(skipped\)/,
  );
  assert.equal(summary.metrics.duplicates_removed, 1);
  assert.equal(summary.tables[1].rows[0][0], `${poolFile}:301`);
  await assert.rejects(
    quietly(() =>
      concepts([
        'retrieve',
        '--eval',
        benchmarkFile,
        '--pool',
        poolFile,
        '--concept',
        'Ages',
        '--out',
        join(dir, 'r2'),
      ]),
    ),
    (e: unknown) =>
      e instanceof AlignkitError &&
      /unknown concept "Ages" \(concepts of this benchmark include: synthetic_en:/.test(e.message),
  );
});

test('generate: a teacher whose replies are not problems — every reply dropped and counted; resumable', async (t) => {
  const { dir, benchmarkFile } = files(t);
  const out = join(dir, 'g');
  const args = [
    'generate',
    '--eval',
    benchmarkFile,
    '--teacher',
    STORIES,
    '--concept',
    'Expressions/Age problems/Ages',
    '--per-concept',
    '3',
    '--shots',
    '1',
    '--teacher-max-new-tokens',
    '24',
    '--out',
    out,
  ];
  await quietly(() => concepts(args));
  const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
  assert.deepEqual([summary.metrics.calls, summary.metrics.kept, summary.metrics.dropped], [3, 0, 3]);
  assert.deepEqual(summary.tables[1].rows, [['no Problem/Solution/Answer sections', 3]]);
  assert.equal(lines(join(out, 'generated.jsonl')).length, 3);
  await assert.rejects(
    quietly(() => concepts(args)),
    /already holds a/,
  );
  await quietly(() => concepts([...args, '--resume']));
  assert.equal(lines(join(out, 'generated.jsonl')).length, 3, 'nothing asked again');
});
