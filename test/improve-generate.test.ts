/** Teacher generation: well-formed problems kept, malformed ones dropped and counted by reason, resumable. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import {
  generateProblems,
  generationMessages,
  parseGeneratedProblem,
  type GenerationTask,
} from '../src/eval/concepts/generate.ts';
import { ScriptedModel, tempDir } from './helpers/eval-fixtures.ts';

const unit = (id: string, path: [string, string, string], grade = 'g_en') => ({
  id: `${grade}:${id}`,
  grade,
  level: 2 as const,
  concept: path.join('/'),
  path,
});

const EN: GenerationTask = {
  unit: unit('ages', ['Expressions', 'Age problems', 'Ages']),
  examples: [
    { question: 'Tom is 5 years older than Ann, who is 7. How old is Tom?', answer: '12' },
    { question: 'Sue is twice as old as her son, who is 11. How old is Sue?', answer: '22' },
    { question: 'In 4 years Ben will be 20. How old is he now?', answer: '16' },
  ],
  demo: { question: 'Amy has 3 pens and buys 4. How many pens?', solution: '3 + 4 = 7.', answer: '7' },
};
const ZH: GenerationTask = {
  unit: unit('area', ['几何', '面积', '长方形的面积'], 'g_zh'),
  examples: [{ question: '一个长方形长8厘米，宽5厘米，面积是多少平方厘米？', answer: '40' }],
};

const REPLIES = [
  'Problem: Carl is 3 years younger than Dana, who is 15. How old is Carl?\nSolution: 15 − 3 = 12.\nAnswer: 12',
  'Sure! Here is a problem about ages. Carl is older than Dana.',
  'Problem: Eve is 9 years old. Her father is 4 times as old. How old is he?\nSolution: 4 × 9 = 36.\nAnswer: he is older than her',
  'Problem: Fred is 10 years old and his sister is 6 years older. How old is she?\nSolution: 10 + 6 = 17.\nAnswer: 16',
  'Problem: Tom is 5 years older than Ann, who is 7. How old is Tom?\nSolution: 7 + 5 = 12.\nAnswer: 12',
  'Problem: carl is 3 years younger than dana, who is 15.  How old is Carl?\nSolution: 15 - 3 = 12\nAnswer: 12.',
  '**Problem:** Gina is 8. Her aunt is 3 times as old plus 2 years. How old is the aunt?\n**Solution:** 3 × 8 + 2 = 26.\n**Answer:** 26',
  'Problem: \nSolution: 1 + 1 = 2\nAnswer: 2',
];

test('a teacher that returns malformed problems: dropped and counted by reason, well-formed ones kept', async (t) => {
  let call = 0;
  const teacher = new ScriptedModel('teacher', (prompt) =>
    prompt.includes('长方形')
      ? '题目：一块长方形菜地长12米，宽6米，面积是多少平方米？\n解答：12×6=72（平方米）。\n答案：72'
      : REPLIES[call++ % REPLIES.length],
  );
  const recordsPath = join(tempDir(t), 'generated.jsonl');
  const options = {
    teacher,
    tasks: [EN, ZH],
    perConcept: REPLIES.length,
    shots: 2,
    generation: { maxNewTokens: 256, temperature: 0.8 },
    concurrency: 1,
    seed: 5,
    recordsPath,
  };
  const outcome = await generateProblems(options);
  assert.deepEqual(
    outcome.problems.filter((p) => p.concept === EN.unit.id).map((p) => [p.question, p.answer]),
    [
      ['Carl is 3 years younger than Dana, who is 15. How old is Carl?', '12'],
      ['Gina is 8. Her aunt is 3 times as old plus 2 years. How old is the aunt?', '26'],
    ],
  );
  assert.deepEqual(outcome.dropped, {
    'no Problem/Solution/Answer sections': 1,
    'answer is not a single number': 1,
    'the solution never reaches the answer': 1,
    'copies an example': 1,
    'repeats an earlier generated problem': 1 + (REPLIES.length - 1),
    'empty or too short problem': 1,
  });
  const zh = outcome.problems.filter((p) => p.concept === ZH.unit.id);
  assert.deepEqual(
    zh.map((p) => [p.answer, p.solution]),
    [['72', '12×6=72（平方米）。']],
    'Chinese labels parse; identical replies count once',
  );
  assert.equal(outcome.records.length, 2 * REPLIES.length);
  assert.equal(teacher.calls, 2 * REPLIES.length);

  // resumed: nothing is asked again, the same result comes back
  const again = await generateProblems({
    ...options,
    teacher: new ScriptedModel('teacher', () => {
      throw new Error('must not be called');
    }),
  });
  assert.deepEqual(again.problems, outcome.problems);
  assert.deepEqual(again.dropped, outcome.dropped);
});

test('the prompt shows the concept, the chosen examples with answers, and the output format; Chinese for Chinese concepts', () => {
  const [en] = generationMessages(EN, EN.examples.slice(0, 2));
  assert.match(en.content, /math concept "Expressions \/ Age problems \/ Ages"/);
  assert.match(en.content, /1\. Tom is 5 years older .* \(answer: 12\)\n2\. Sue/);
  assert.ok(!en.content.includes('In 4 years Ben'), 'only the chosen examples');
  assert.match(en.content, /Problem: Amy has 3 pens and buys 4\. How many pens\?\nSolution: 3 \+ 4 = 7\.\nAnswer: 7/);
  const [zh] = generationMessages(ZH, ZH.examples);
  assert.match(zh.content, /知识点“几何 \/ 面积 \/ 长方形的面积”/);
  assert.match(zh.content, /题目: <…>\n解答: <…>\n答案: <…>/);
  assert.ok(
    'reason' in parseGeneratedProblem('Problem: What is 2 + 2 if we add them?\nSolution: 2+2=4\nAnswer: 4 or 5'),
    'two numbers: not one answer',
  );
});
