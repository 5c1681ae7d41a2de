/**
 * Retrieval from a pool with the concept classifier, and pools in the wrong format. The
 * benchmark is SYNTHETIC (GSM8K questions with keyword-rule concept labels; see
 * test/helpers/concept-fixture.ts); the pool is the rest of GSM8K test, whose keyword labels
 * tell whether a retrieved problem is of the requested concept.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConceptClassifier } from '../src/eval/concepts/concept-classifier.ts';
import { loadPool, solutionCompletion } from '../src/eval/concepts/problem-pool.ts';
import { retrieveProblems } from '../src/eval/concepts/retrieve.ts';
import { AlignkitError } from '../src/errors.ts';
import { buildFixture, GSM8K_TEST, keywordConcept, toJsonl } from './helpers/concept-fixture.ts';
import { tempDir } from './helpers/eval-fixtures.ts';

const label = (b: { grade: string; cate0: string; cate1: string; cate2: string }) =>
  `${b.grade}:${b.cate0}/${b.cate1}/${b.cate2}`;

test('retrieval returns problems of the requested concept far more often than chance', () => {
  const { benchmark } = buildFixture();
  const classifier = ConceptClassifier.train(benchmark.map((b) => ({ text: b.question, label: label(b) })));
  const pool = loadPool(GSM8K_TEST).slice(400);
  assert.equal(pool.length, 919);
  const concepts = [
    'Expressions/Age problems/Ages',
    'statistics/Averages/Mean',
    'Calculate/Percents/Percent of a number',
    'Calculate/Fractions/Fractions of a quantity',
    'Measurement/Time/Elapsed time',
    'Calculate/Money/Prices and totals',
  ];
  const retrieval = retrieveProblems(
    classifier,
    pool,
    concepts.map((c) => `synthetic_en:${c}`),
    { perConcept: 15 },
  );
  let hits = 0,
    total = 0,
    chance = 0;
  for (const c of concepts) {
    const got = retrieval.byConcept.get(`synthetic_en:${c}`)!;
    const precision = got.filter((p) => keywordConcept(p.question) === c).length / got.length;
    const baseRate = pool.filter((p) => keywordConcept(p.question) === c).length / pool.length;
    assert.ok(got.length >= 5, `${c}: ${got.length} retrieved`);
    assert.ok(precision > baseRate, `${c}: precision ${precision} vs chance ${baseRate}`);
    assert.ok(
      got.every((p, i) => i === 0 || got[i - 1].probability >= p.probability),
      'most confident first',
    );
    hits += precision * got.length;
    total += got.length;
    chance += baseRate * got.length;
  }
  assert.ok(hits / total >= 2 * (chance / total), `precision ${hits / total} vs chance ${chance / total}`);
  assert.deepEqual(retrieval.empty, []);
});

test('concepts with no problems in the pools are reported, unknown concepts too', () => {
  const { benchmark } = buildFixture(200);
  const classifier = ConceptClassifier.train(benchmark.map((b) => ({ text: b.question, label: label(b) })));
  const englishPool = loadPool(GSM8K_TEST).slice(1200);
  const retrieval = retrieveProblems(classifier, englishPool, [
    'synthetic_zh:几何/面积/长方形的面积',
    'synthetic_en:Calculate/Money/Prices and totals',
    'synthetic_en:no/such/concept',
  ]);
  assert.deepEqual(retrieval.empty, ['synthetic_zh:几何/面积/长方形的面积']);
  assert.deepEqual(retrieval.unknown, ['synthetic_en:no/such/concept']);
  assert.ok(retrieval.byConcept.get('synthetic_en:Calculate/Money/Prices and totals')!.length > 0);
});

test('pools: GSM8K format and solution/answer records; training targets end with the answer marker', (t) => {
  const file = join(tempDir(t), 'pool.jsonl');
  writeFileSync(
    file,
    toJsonl([
      { question: 'Tom has 2 apples and buys 3. How many?', answer: 'He has 2 + 3 = <<2+3=5>>5 apples.\n#### 5' },
      { question: '一共有多少个？', solution: '3 + 4 = 7', answer: 7 },
      { question: 'Big number?', answer: 'It is 1,000 + 200.\n#### 1,200' },
    ]),
  );
  const pool = loadPool(file);
  assert.deepEqual(
    pool.map((p) => [p.id, p.solution, p.answer]),
    [
      [`${file}:1`, 'He has 2 + 3 = 5 apples.', '5'],
      [`${file}:2`, '3 + 4 = 7', '7'],
      [`${file}:3`, 'It is 1,000 + 200.', '1200'],
    ],
  );
  assert.equal(solutionCompletion(pool[0]), 'He has 2 + 3 = 5 apples.\nTherefore, the answer is 5.');
  assert.equal(solutionCompletion(pool[1]), '3 + 4 = 7\n因此，答案是7。');
});

test('a pool in the wrong format is named by file, line and field', (t) => {
  const dir = tempDir(t);
  const cases: [string, string, RegExp][] = [
    [
      'no-marker.jsonl',
      toJsonl([
        { question: 'q1?', answer: 'a\n#### 1' },
        { question: 'q2?', answer: '42' },
      ]),
      /line 2, field "answer": expected a GSM8K-style worked solution ending in "#### <final answer>"/,
    ],
    ['no-question.jsonl', toJsonl([{ problem: 'q?', answer: 'a\n#### 1' }]), /line 1, field "question": missing field/],
    [
      'not-json.jsonl',
      `${JSON.stringify({ question: 'q?', answer: 'a #### 1' })}\n{question: broken}\n`,
      /line 2: malformed JSON/,
    ],
    [
      'empty-final.jsonl',
      toJsonl([{ question: 'q?', answer: 'a ####   ' }]),
      /line 1, field "answer": .*final answer is empty/,
    ],
    ['array-line.jsonl', '[1, 2]\n', /line 1: expected a JSON object/],
  ];
  for (const [name, text, message] of cases) {
    const file = join(dir, name);
    writeFileSync(file, text);
    assert.throws(
      () => loadPool(file),
      (e: unknown) => e instanceof AlignkitError && e.message.startsWith(file) && message.test(e.message),
      name,
    );
  }
});
