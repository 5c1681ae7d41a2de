import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { RunDir } from '../src/run/run-dir.ts';
import { AlignkitError } from '../src/errors.ts';
import { isClose, matchAnswer, narrowToAnswer, valueOf } from '../src/eval/conceptmath/extract.ts';
import { evaluateExpression } from '../src/eval/conceptmath/evaluate-expression.ts';
import { loadConceptMath, loadConceptMathResponses } from '../src/eval/conceptmath/data.ts';
import { conceptAccuracy, setAccuracy, weakestConcepts, type ConceptOutcome } from '../src/eval/conceptmath/score.ts';
import { runConceptMath } from '../src/eval/conceptmath/run.ts';
import { ScriptedModel, tempDir } from './helpers/eval-fixtures.ts';
import { assertNamedError } from './helpers/named-error.ts';

const correct = (answer: string, response: string) => matchAnswer(answer, response).correct;

test('English responses: answer marker, number words, thousands commas', () => {
  assert.equal(narrowToAnswer('36 - 9 = 27 pencils. Therefore, the answer is 27.'), '27.');
  assert.ok(correct('27', 'Tom has 3 × 12 = 36, then 36 − 9. Therefore, the answer is 27.'));
  assert.ok(
    !correct('36', 'Tom has 3 × 12 = 36, then 36 − 9. Therefore, the answer is 27.'),
    'only the text after the marker counts',
  );
  assert.ok(correct('3', 'The answer is three.'));
  assert.ok(correct('100', 'The answer is one hundred.'));
  assert.ok(correct('11', 'The answer is eleven.'), 'eleven (missed by the reference pattern) is replaced');
  assert.ok(correct('1200', 'The answer is 1,200 people.'));
  assert.ok(!correct('5', 'I do not know.'), 'no number, not correct');
  // the lenient rule of the notes: any number in the tail may match
  assert.ok(correct('12', 'Sorted: 11, 11, 11, 12, 15'));
});

test('fractions, mixed numbers, percentages, pi and LaTeX', () => {
  assert.ok(correct('3/4', 'The answer is 0.75'));
  assert.ok(correct('0.75', 'The answer is 3/4'));
  assert.ok(correct('1 1/2', 'The answer is 1.5 cups'));
  assert.ok(correct('7/4', 'The answer is 1 3/4'));
  assert.ok(correct('25%', 'The answer is 0.25'));
  assert.ok(correct('0.25', 'The answer is 25%'));
  assert.ok(!correct('25', 'The answer is 25%'), '25% is 0.25, not 25');
  assert.ok(correct('6.28', 'The answer is 2π'));
  assert.ok(correct('6.28', 'The answer is 2\\pi'));
  assert.ok(correct('0.5', 'The answer is $\\frac{1}{2}$'));
  assert.ok(correct('\\frac{1}{3}', 'The answer is 0.333'));
  assert.ok(correct('[2,3]', 'The answer is x = 2 or x = 3'));
  assert.ok(!correct('[2,3]', 'The answer is x = 2'), 'every gold value must be matched');
  assert.equal(valueOf('50%'), 0.5);
  assert.equal(valueOf('2 1/4'), 2.25);
  assert.equal(evaluateExpression('2\\sqrt{9}+\\frac{1}{2}^2'), 6.25);
  assert.equal(evaluateExpression('21-30'), -9, 'a range string evaluates like sympy would');
  assert.equal(evaluateExpression('3 apples'), undefined);
});

test('Chinese responses: answer markers, full-width comma in gold answers', () => {
  assert.equal(narrowToAnswer('24 ÷ 4 = 6，每人6颗。因此，答案是6。'), '6。');
  assert.ok(correct('6', '24 ÷ 4 = 6，每人6颗。因此，答案是6。'));
  assert.ok(correct('12', '先算乘法。答案：12'));
  assert.ok(correct('28', '周长是4×7，所以周长为28厘米'));
  assert.ok(!correct('7', '周长是4×7，所以周长为28厘米'), '所以 narrows to the tail');
  assert.ok(correct('[2，3]', '解得x=2或x=3，答案为2和3'));
  assert.ok(correct('0.3', '结果是30%'));
  assert.ok(correct('3/5', '答案是0.6'));
});

test('tolerance: 5 % relative below 20, ±1 from 20, exact at 0', () => {
  assert.ok(isClose(10, 10.5) && !isClose(10, 10.6));
  assert.ok(isClose(100, 101) && !isClose(100, 101.5));
  assert.ok(isClose(19, 19.95) && !isClose(19, 20));
  assert.ok(isClose(0, 0) && !isClose(0, 0.001));
  assert.ok(isClose(0.1 + 0.2, 0.3));
});

test('concept accuracy at three levels, per system; weakest concepts ranked', () => {
  const o = (grade: string, c0: string, c1: string, c2: string, ok: boolean): ConceptOutcome => ({
    grade,
    cate0: c0,
    cate1: c1,
    cate2: c2,
    correct: ok,
  });
  const outcomes = [
    o('element_en', 'geometry', 'angles', 'right angles', true),
    o('element_en', 'geometry', 'angles', 'right angles', false),
    o('element_en', 'geometry', 'area', 'rectangles', true),
    o('element_en', 'Measurement', 'time', 'hours', false),
    o('middle_zh', '几何', '三角形', '勾股定理', true),
  ];
  const acc = conceptAccuracy(outcomes);
  const get = (grade: string, concept: string) => acc.find((a) => a.grade === grade && a.concept === concept)!;
  assert.deepEqual([get('element_en', 'geometry').right, get('element_en', 'geometry').count], [2, 3]);
  assert.equal(get('element_en', 'geometry/angles').accuracy, 0.5);
  assert.equal(get('element_en', 'geometry/angles/right angles').level, 2);
  assert.equal(get('element_en', 'Measurement/time/hours').accuracy, 0);
  assert.equal(get('middle_zh', '几何/三角形/勾股定理').accuracy, 1);
  assert.equal(acc.length, 3 + 3 + 2 + 3); // element_en: 2 cate0, 3 cate1, 3 leaves; middle_zh: 1+1+1
  assert.deepEqual(
    weakestConcepts(acc, { grade: 'element_en', n: 2 }).map((c) => c.concept),
    ['Measurement/time/hours', 'geometry/angles/right angles'],
  );
  assert.deepEqual(setAccuracy(outcomes), [
    { grade: 'element_en', right: 2, count: 4, accuracy: 0.5 },
    { grade: 'middle_zh', right: 1, count: 1, accuracy: 1 },
  ]);
});

const EN = [
  {
    idx: 1,
    cate0: 'Calculate',
    cate1: 'Add',
    cate2: 'Add whole numbers',
    question: 'What is 2 + 3?',
    answer: 5,
    grade: 'element_en',
  },
  {
    idx: 2,
    cate0: 'Calculate',
    cate1: 'Fractions',
    cate2: 'Add fractions',
    question: 'What is 1/4 + 1/2?',
    answer: '3/4',
    grade: 'element_en',
  },
  {
    idx: 2,
    cate0: 'geometry',
    cate1: 'angles',
    cate2: 'Right angles',
    question: 'How many degrees in a right angle?',
    answer: '90',
    grade: 'element_en',
  },
];
const ZH = [
  {
    idx: 10,
    cate0: '数与式',
    cate1: '百分数',
    cate2: '百分数的应用',
    question: '一件衣服打八折，折扣是原价的百分之几？',
    answer: '80%',
    grade: 'middle_zh',
  },
  {
    idx: 11,
    cate0: '方程与不等式',
    cate1: '一元二次方程',
    cate2: '解一元二次方程',
    question: '解方程 x^2 = 4',
    answer: '[2,-2]',
    grade: 'middle_zh',
  },
];
const ANSWERS: Record<string, string> = {
  'What is 2 + 3?': 'Two plus three is five. Therefore, the answer is 5.',
  'What is 1/4 + 1/2?': 'The answer is 0.75.',
  'How many degrees in a right angle?': 'A right angle has 180 degrees.',
  '一件衣服打八折，折扣是原价的百分之几？': '八折就是原价的80%。因此，答案是80%。',
  '解方程 x^2 = 4': '所以 x = 2',
};

test('end to end on synthetic EN and ZH files: generation, scoring, summary, and scoring a responses file', async (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'element_en.jsonl'), EN.map((r) => JSON.stringify(r)).join('\n'));
  writeFileSync(join(dir, 'middle_zh.jsonl'), ZH.map((r) => JSON.stringify(r)).join('\n'));
  const items = loadConceptMath([join(dir, 'element_en.jsonl'), join(dir, 'middle_zh.jsonl')]);
  assert.deepEqual(
    items.map((i) => i.key),
    ['element_en:1', 'element_en:2', 'element_en:2#2', 'middle_zh:10', 'middle_zh:11'],
  );
  const model = new ScriptedModel('math', (prompt) => ANSWERS[Object.keys(ANSWERS).find((q) => prompt.includes(q))!]);
  const run = await runConceptMath({
    items,
    runDir: RunDir.create(join(dir, 'out')),
    model,
    concurrency: 2,
    promptStyle: 'zs-cot',
  });
  assert.ok(
    model.prompts.some((p) => p.includes("Let's think step by step.")) &&
      model.prompts.some((p) => p.includes('让我们一步一步地思考')),
  );
  assert.deepEqual(
    run.outcomes.map((o) => o.correct),
    [true, true, false, true, false],
  );
  assert.equal(run.summary.metrics!.accuracy, 60);
  // summary.json keeps full precision; tables and the HTML report round
  assert.equal(run.summary.metrics!['Elementary-EN'], 100 * (2 / 3));
  assert.deepEqual(run.summary.tables[0].rows[0], ['Elementary-EN', 3, 2, 66.67]);
  assert.equal(run.summary.metrics!['Middle-ZH'], 50);
  assert.ok(
    run.summary.tables.some(
      (tb) => tb.title === 'Weakest concepts — Elementary-EN' && tb.rows[0][0] === 'geometry/angles/Right angles',
    ),
  );
  assert.equal(run.summary.plots.length, 2);

  // outputs in ConceptMath's own format (record + response) are enough to score
  const outputs = join(dir, 'outputs.jsonl');
  writeFileSync(outputs, [...EN, ...ZH].map((r) => JSON.stringify({ ...r, response: ANSWERS[r.question] })).join('\n'));
  const given = loadConceptMathResponses([outputs]);
  const scored = await runConceptMath({
    items: given.items,
    responses: given.responses,
    runDir: RunDir.create(join(dir, 'scored')),
    concurrency: 1,
  });
  assert.deepEqual(
    scored.outcomes.map((o) => o.correct),
    run.outcomes.map((o) => o.correct),
  );
  assert.equal(
    readFileSync(join(dir, 'scored', 'results.jsonl'), 'utf8')
      .trim()
      .split('\n').length,
    5,
  );
});

test('a record with a missing field names the file, line and field', (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'middle_en.jsonl');
  const { cate1: _, ...broken } = EN[0];
  writeFileSync(file, [JSON.stringify(EN[1]), '', JSON.stringify(broken)].join('\n'));
  assert.throws(
    () => loadConceptMath([file]),
    (e: unknown) =>
      e instanceof AlignkitError && e.message === `${file}, line 3, field "cate1": missing field (expected a string)`,
  );
});

test('the answer normalisation gives the numbers sympy gives (golden values of the reference steps)', () => {
  // test/fixtures/conceptmath-simplify-golden.json: scripts/conceptmath-simplify-reference.py, sympy's parse_latex
  const golden = JSON.parse(readFileSync('test/fixtures/conceptmath-simplify-golden.json', 'utf8'));
  assert.ok(golden.values.length > 100);
  for (const { candidate, value } of golden.values as { candidate: string; value: number | null }[]) {
    const ours = valueOf(candidate) ?? null;
    if (value === null) assert.equal(ours, null, candidate);
    else
      assert.ok(
        ours !== null && Math.abs(ours - value) <= 1e-9 * Math.max(1, Math.abs(value)),
        `${candidate}: ${ours} vs ${value}`,
      );
  }
  // the leading expression of a LaTeX span is read, as the reference reads it
  assert.ok(correct('0.3', 'The answer is: a pencil costs $0.30, and three pens cost $1.20.'));
});

test('the published files hold NaN answers: read as Python reads them, scored as the reference scores them', (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'element_en.jsonl');
  writeFileSync(
    file,
    [
      JSON.stringify(EN[0]),
      '{"idx": 363, "cate0": "Measurement", "cate1": "Size", "cate2": "length", "question": "Could you estimate the length of this phone?", "answer": NaN, "grade": "element_en"}',
      '{"idx": 364, "cate0": "Measurement", "cate1": "Size", "cate2": "length", "question": "Is \\"NaN\\" a number?", "answer": 7, "grade": "element_en"}',
    ].join('\n'),
  );
  const items = loadConceptMath([file]);
  assert.deepEqual(
    items.map((i) => i.answer),
    ['5', 'nan', '7'],
  );
  assert.equal(items[2].question, 'Is "NaN" a number?', 'NaN inside a string stays text');
  // the reference's str(nan) is "nan", which sympy keeps symbolic: never close to any number
  assert.ok(!correct(items[1].answer, 'The answer is nan'));
  assert.ok(!correct(items[1].answer, 'The answer is 6 inches'));
});

test('scoring given responses: checked against --data, duplicates and empty files refused', (t) => {
  const dir = tempDir(t);
  const data = join(dir, 'element_en.jsonl');
  writeFileSync(data, EN.map((r) => JSON.stringify(r)).join('\n'));
  const benchmark = loadConceptMath([data]);
  const outputs = join(dir, 'outputs.jsonl');
  const write = (rows: object[]) => writeFileSync(outputs, rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
  const answered = (r: (typeof EN)[number]) => ({ ...r, response: 'The answer is 5' });

  write([answered(EN[0]), answered(EN[2])]);
  const given = loadConceptMathResponses([outputs], benchmark);
  assert.deepEqual(
    given.items.map((i) => i.key),
    ['element_en:1', 'element_en:2', 'element_en:2#2'],
    'the items are the benchmark',
  );
  assert.deepEqual([...given.responses.keys()], ['element_en:1', 'element_en:2#2'], 'matched by idx and question');

  write([answered(EN[0]), { ...answered(EN[0]), idx: 99 }]);
  assertNamedError(
    () => loadConceptMathResponses([outputs], benchmark),
    `${outputs}, line 2`,
    /element_en idx 99 with this question is not an item of the benchmark given with --data/,
  );
  write([answered(EN[1]), answered(EN[2]), answered(EN[1])]);
  assertNamedError(
    () => loadConceptMathResponses([outputs]),
    `${outputs}, line 3`,
    /a second response to element_en idx 2 \(the first is at .*outputs\.jsonl line 1\)/,
  );
  writeFileSync(outputs, '\n');
  assertNamedError(() => loadConceptMathResponses([outputs]), outputs, /no responses in the file/);
});
