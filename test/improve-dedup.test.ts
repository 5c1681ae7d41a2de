/**
 * No evaluation item (or near duplicate) enters the training data: duplicates are planted in a
 * pool and among generated problems, and must be removed and reported.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DuplicateIndex, withoutDuplicates } from '../src/eval/concepts/near-duplicates.ts';
import type { PoolProblem } from '../src/eval/concepts/problem-pool.ts';
import { cleanPool } from '../src/eval/concepts/training-records.ts';
import { buildMix } from '../src/improve/training-mix.ts';

const EVAL = [
  {
    key: 'e:1',
    text: "Janet's ducks lay 16 eggs per day. She eats three for breakfast every morning and bakes muffins for her friends every day with four. She sells the remainder at the farmers' market daily for $2 per fresh duck egg. How much in dollars does she make every day at the farmers' market?",
  },
  {
    key: 'e:2',
    text: 'A robe takes 2 bolts of blue fiber and half that much white fiber. How many bolts in total does it take?',
  },
  { key: 'e:3', text: '一个长方形长8厘米，宽5厘米，它的面积是多少平方厘米？' },
  {
    key: 'e:4',
    text: 'Josh decides to try flipping a house. He buys a house for $80,000 and then puts in $50,000 in repairs. This increased the value of the house by 150%. How much profit did he make?',
  },
];

const problem = (id: string, question: string): PoolProblem => ({
  id,
  question,
  solution: 'Some steps = 1.',
  answer: '1',
});

const PLANTED: [string, string, 'exact' | 'near', string][] = [
  ['exact copy', EVAL[0].text, 'exact', 'e:1'],
  ['re-spaced', EVAL[1].text.replace(/ /g, '   ').replace('. How', '.\n\nHow'), 'exact', 'e:2'],
  ['re-cased', EVAL[1].text.toUpperCase(), 'exact', 'e:2'],
  ['punctuation and full-width', EVAL[2].text.replace('，', ',').replace('？', '?').replace('8', '８'), 'exact', 'e:3'],
  ['one word changed, numbers kept', EVAL[3].text.replace('flipping', 'renovating'), 'near', 'e:4'],
  ['a sentence added', `${EVAL[0].text} Round to the nearest dollar.`, 'near', 'e:1'],
  [
    'thousands written without commas',
    EVAL[3].text.replace('$80,000', '$80000').replace('Josh', 'Joshua'),
    'near',
    'e:4',
  ],
];

const CLEAN = [
  problem('clean:1', 'A robe store sells 14 robes a day. How many robes does it sell in a week?'),
  problem('clean:2', 'Mia has 3 boxes of 12 eggs. She uses 7 eggs for a cake. How many eggs are left?'),
  problem('clean:3', '一个正方形的边长是6米，它的周长是多少米？'),
  problem('clean:4', 'How much in dollars does Tom make every day if he sells 9 pens for $2 each?'),
];

test('planted duplicates (exact, re-spaced, re-cased, near with numbers kept, embedded) are removed from a pool and reported', () => {
  const index = new DuplicateIndex(EVAL);
  const pool = [...PLANTED.map(([name, text]) => problem(`planted:${name}`, text)), ...CLEAN];
  const { clean, removed } = cleanPool(pool, index);
  assert.deepEqual(
    clean.map((p) => p.id),
    CLEAN.map((p) => p.id),
    'unrelated problems stay, even ones sharing phrases',
  );
  assert.equal(removed.length, PLANTED.length);
  for (const [name, , kind, key] of PLANTED) {
    const r = removed.find((x) => x.origin === `planted:${name}`);
    assert.ok(r, `${name} not removed`);
    assert.equal(r.match.kind, kind, name);
    assert.equal(r.match.key, key, name);
  }
});

test('a different problem written on the same template with other numbers counts as a near duplicate', () => {
  const index = new DuplicateIndex(EVAL);
  const templated = EVAL[0].text.replace('16 eggs', '20 eggs').replace('$2', '$3');
  const m = index.match(templated);
  assert.equal(m?.kind, 'near');
  assert.ok(m!.jaccard >= 0.5 && m!.jaccard < 1);
  assert.equal(index.match('How many bolts in total?'), undefined, 'a short shared phrase is not enough');
});

test('generated problems that duplicate evaluation items never reach the mix; the mix reports them', () => {
  const index = new DuplicateIndex(EVAL);
  const generated = [
    { key: 'c#0', concept: 'c', question: EVAL[1].text.replace('robe', 'Robe '), solution: 'x = 3', answer: '3' },
    {
      key: 'c#1',
      concept: 'c',
      question: 'A shirt takes 3 yards of cloth and a third of that in lining. How many yards in all?',
      solution: '3 + 1 = 4',
      answer: '4',
    },
  ];
  const retrieved = new Map([
    ['c', [{ ...CLEAN[0], concept: 'c', probability: 0.9 }]],
    ['d', []],
  ]);
  const mix = buildMix({
    weakConcepts: ['c', 'd'],
    retrieved,
    generated,
    general: CLEAN,
    generalRatio: 1,
    index,
    seed: 3,
  });
  assert.deepEqual(
    mix.removed.map((r) => [r.source, r.origin, r.match.key]),
    [['generated', 'c#0', 'e:2']],
  );
  assert.deepEqual(mix.perConcept, [
    { concept: 'c', retrieved: 1, generated: 1 },
    { concept: 'd', retrieved: 0, generated: 0 },
  ]);
  assert.deepEqual(mix.skipped, ['d']);
  assert.equal(mix.general, 2, 'general examples = ratio × concept examples, never the retrieved ones again');
  assert.ok(!mix.records.some((r) => r.source === 'general' && r.origin === CLEAN[0].id));
  const questions = mix.records.map((r) => r.prompt[0].content);
  assert.equal(
    withoutDuplicates(questions, (q) => q, index).removed.length,
    0,
    'no training question matches an evaluation item',
  );
  assert.ok(
    mix.records.every((r) => /Therefore, the answer is \d+\.$|因此，答案是\d+。$/.test(r.completion[0].content)),
  );
});
