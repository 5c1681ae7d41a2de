/**
 * The concept classifier on a SYNTHETIC concept-labelled benchmark (GSM8K questions labelled by
 * keyword rules, plus hand-written Chinese items; see test/helpers/concept-fixture.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConceptClassifier, heldOutScore } from '../src/eval/concepts/concept-classifier.ts';
import { conceptUnits, POOLED, unitOutcome } from '../src/eval/concepts/concept-units.ts';
import { stratifiedSplit } from '../src/eval/concepts/stratified-split.ts';
import { TfidfVectorizer } from '../src/eval/concepts/tfidf.ts';
import { conceptTokens, normalizeText } from '../src/eval/concepts/text-tokens.ts';
import { AlignkitError } from '../src/errors.ts';
import { buildFixture } from './helpers/concept-fixture.ts';
import { tempDir } from './helpers/eval-fixtures.ts';

test('tokens: NFKC, case, numbers collapsed for concepts, CJK characters split, math symbols kept', () => {
  assert.equal(normalizeText('  Ｔｏｍ  has\n1,200 apples '), 'tom has 1200 apples');
  assert.deepEqual(conceptTokens('What is 25% of $40?'), ['what', 'is', '<num>', '%', 'of', '$', '<num>']);
  assert.deepEqual(conceptTokens('长方形面积'), ['长', '方', '形', '面', '积']);
});

test('TF-IDF vectors have unit length and unseen features are ignored', () => {
  const v = TfidfVectorizer.fit(['the area of a rectangle', 'the price of apples', 'the area of a square'], {
    minDf: 1,
    maxFeatures: 1000,
  });
  const x = v.transform('area of a rectangle');
  const norm = Math.sqrt(x.values.reduce((a, b) => a + b * b, 0));
  assert.ok(Math.abs(norm - 1) < 1e-9, `norm ${norm}`);
  assert.equal(v.transform('zzzz qqqq').indices.length, 0);
});

test('the classifier beats the majority-class baseline on held-out labelled questions', () => {
  const { benchmark } = buildFixture();
  const examples = benchmark.map((b) => ({ text: b.question, label: `${b.grade}:${b.cate0}/${b.cate1}/${b.cate2}` }));
  const score = heldOutScore(examples, { seed: 1 });
  assert.equal(score.labels, 10);
  assert.ok(score.testSize >= 100, `held out ${score.testSize}`);
  assert.ok(
    score.accuracy >= score.majorityAccuracy + 0.2,
    `accuracy ${score.accuracy} vs majority ${score.majorityAccuracy}`,
  );
});

test('Chinese questions go to Chinese concepts; save and load give the same probabilities', (t) => {
  const { benchmark } = buildFixture(200);
  const classifier = ConceptClassifier.train(
    benchmark.map((b) => ({ text: b.question, label: `${b.grade}:${b.cate0}/${b.cate1}/${b.cate2}` })),
  );
  assert.equal(
    classifier.predict('一块长方形草地长20米，宽9米，面积是多少平方米？').label,
    'synthetic_zh:几何/面积/长方形的面积',
  );
  assert.equal(
    classifier.predict('一双鞋原价300元，打七折后便宜了多少元？').label,
    'synthetic_zh:数与代数/百分数/百分数的应用',
  );
  const file = join(tempDir(t), 'classifier.json');
  classifier.save(file);
  const loaded = ConceptClassifier.load(file);
  const q = 'Mia is 3 years older than her brother, who is 9 years old. How old is Mia?';
  assert.deepEqual(loaded.labels, classifier.labels);
  assert.equal(loaded.predict(q).label, classifier.predict(q).label);
  assert.ok(Math.abs(loaded.predict(q).probability - classifier.predict(q).probability) < 1e-5);
});

test('classifier errors: one concept only, a file that is not a classifier', (t) => {
  assert.throws(
    () =>
      ConceptClassifier.train([
        { text: 'a b', label: 'x' },
        { text: 'c d', label: 'x' },
      ]),
    /at least two concepts/,
  );
  const file = join(tempDir(t), 'x.json');
  writeFileSync(file, '{"kind": "something else"}');
  assert.throws(
    () => ConceptClassifier.load(file),
    (e: unknown) =>
      e instanceof AlignkitError &&
      e.message.includes(file) &&
      e.message.includes('not an alignkit concept classifier'),
  );
});

test('concept units: leaves with too few items are pooled under their parent, then their top concept', () => {
  const item = (c1: string, c2: string) => ({ grade: 'g', cate0: 'A', cate1: c1, cate2: c2 });
  const items = [
    ...Array.from({ length: 5 }, () => item('p', 'big')),
    ...Array.from({ length: 3 }, () => item('p', 'small1')),
    ...Array.from({ length: 2 }, () => item('p', 'small2')),
    item('q', 'tiny'),
  ];
  const units = conceptUnits(items, items, 5);
  assert.equal(units.unitOf(item('p', 'big')).concept, 'A/p/big');
  assert.equal(units.unitOf(item('p', 'small1')).concept, `A/p/${POOLED}`);
  assert.equal(
    units.unitOf(item('p', 'small2')).id,
    units.unitOf(item('p', 'small1')).id,
    'small leaves of one parent share a unit',
  );
  assert.equal(units.unitOf(item('q', 'tiny')).concept, `A/${POOLED}/${POOLED}`);
  assert.equal(units.units.length, 3);
  const relabelled = unitOutcome(units, { ...item('p', 'small2'), correct: true });
  assert.deepEqual([relabelled.cate0, relabelled.cate1, relabelled.cate2], ['A', 'p', POOLED]);
});

test('stratified split: every group of two or more is in both parts; seeded', () => {
  const items = Array.from({ length: 41 }, (_, i) => ({ i, g: i < 30 ? 'a' : i < 40 ? 'b' : 'c' }));
  const { first, second } = stratifiedSplit(items, (x) => x.g, 0.5, 7);
  assert.equal(first.length + second.length, 41);
  for (const g of ['a', 'b']) assert.ok(first.some((x) => x.g === g) && second.some((x) => x.g === g));
  assert.ok(second.some((x) => x.g === 'c') && !first.some((x) => x.g === 'c'), 'a singleton goes to the second part');
  assert.deepEqual(stratifiedSplit(items, (x) => x.g, 0.5, 7).first, first);
  assert.notDeepEqual(stratifiedSplit(items, (x) => x.g, 0.5, 8).first, first);
});
