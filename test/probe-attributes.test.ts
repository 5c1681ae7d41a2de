import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadTokenizer } from '../src/tokenizers/load-tokenizer.ts';
import { readJsonl } from '../src/util/jsonl.ts';
import type { AttributeContext } from '../src/probe/attribute.ts';
import { builtinAttributes } from '../src/probe/builtin-attributes.ts';
import { countReasoningSteps } from '../src/probe/structural-attributes.ts';
import { firstCharacter } from '../src/probe/content-attributes.ts';
import { choiceLetter, finalNumber } from '../src/probe/answer-extraction.ts';
import { tokensCoveringChars } from '../src/probe/token-span.ts';
import { registerAttributeModule } from '../src/probe/attribute-module.ts';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const GSM8K = 'data/gsm8k/test.jsonl';
const TOKENIZER = 'data/stories260K/tok512.bin';
const registry = builtinAttributes();

function context(over: Partial<AttributeContext>): AttributeContext {
  return {
    prompt: '',
    promptTokens: [],
    response: '',
    responseTokens: [],
    responseLogprobs: [],
    finishReason: 'eos',
    fields: {},
    tokenizer: {
      vocabSize: 1,
      bosId: null,
      eosId: null,
      padId: 0,
      encode: () => [],
      decode: () => '',
      hasChatTemplate: false,
      applyChatTemplate: () => '',
    },
    options: {},
    ...over,
  };
}
const compute = (name: string, over: Partial<AttributeContext>) => registry.get(name)!.compute(context(over));

test('reasoning steps of GSM8K reference solutions (lines, the "####" line not counted)', () => {
  const items = readJsonl<{ answer: string }>(GSM8K)
    .slice(0, 3)
    .map((r) => r.value.answer);
  // Janet's ducks: 2 lines + "#### 18"; robe: 2 lines + "#### 3"; house flipping: 4 lines + "#### 70000"
  assert.deepEqual(
    items.map((a) => countReasoningSteps(a)),
    [2, 2, 4],
  );
  assert.equal(finalNumber(items[0])?.value, 18);
  assert.equal(finalNumber(items[2])?.value, 70000);
});

test('reasoning steps: "Step k:" markers, else sentences of a one-line solution; capped', () => {
  assert.equal(countReasoningSteps('Step 1: add. Step 2: multiply.\nStep 3: done.\nThe answer is 4'), 3);
  assert.equal(countReasoningSteps('First add 2 and 2. Then double it! So we get 8.'), 3);
  assert.equal(countReasoningSteps('a\nb\nc\nd', 2), 2);
  assert.equal(compute('steps', { response: 'x = 1\ny = 2\n#### 3' }), 2);
});

test('length counts response tokens; after t tokens it is the remaining length', () => {
  const length = registry.get('length')!;
  assert.equal(length.compute(context({ responseTokens: [5, 6, 7, 8] })), 4);
  assert.equal(length.atStep!(4, 3, context({})), 1);
});

test('character: the first candidate name the story introduces, names from the prompt skipped', () => {
  assert.equal(firstCharacter('Tom went to the park.', 'Tom saw Lily and Ben.', ['Ben', 'Lily', 'Tom']), 'Lily');
  assert.equal(firstCharacter('A dog', 'Benny and Lilyanne played.', ['Ben', 'Lily']), null, 'whole words only');
  assert.equal(
    compute('character', { prompt: 'Once', response: 'there was a girl named Sue.' }),
    'Sue',
    'default TinyStories names',
  );
  assert.equal(compute('character', { response: 'Zed met Ana.', options: { names: ['Ana', 'Zed'] } }), 'Zed');
});

test('multiple-choice letter at the end of a response', () => {
  assert.equal(choiceLetter('Let me think about (A) and (B). The answer is (C).')?.value, 'C');
  assert.equal(choiceLetter('Rivers flow downhill, so the answer: B')?.value, 'B');
  assert.equal(choiceLetter('It is a dog, I think.'), null, '"a" is not an option letter');
  assert.equal(compute('choice', { response: 'Options (A) and (D) are wrong...\nSo: E' }), 'E');
});

test('consistency with a reference answer: numbers, letters, yes/no, text', () => {
  const gsm = { answer: 'She sells 9 eggs.\n#### 18' };
  assert.equal(
    compute('consistency', { response: '16 - 3 - 4 = 9 eggs, 9 * 2 = 18. The answer is 18.', fields: gsm }),
    'consistent',
  );
  assert.equal(compute('consistency', { response: 'The answer is 20', fields: gsm }), 'inconsistent');
  assert.equal(compute('consistency', { response: 'I do not know.', fields: gsm }), null, 'no answer given: no label');
  assert.equal(compute('consistency', { response: 'Answer: (B)', fields: { label: 'B' } }), 'consistent');
  assert.equal(compute('consistency', { response: 'No, that is false.', fields: { reference: true } }), 'inconsistent');
  assert.equal(
    compute('consistency', {
      response: 'Yes, I agree.',
      fields: { truth: 'yes' },
      options: { referenceField: 'truth' },
    }),
    'consistent',
  );
  assert.equal(
    compute('consistency', { response: 'The capital is Paris, of course.', fields: { answer: 'Paris' } }),
    'consistent',
  );
  assert.equal(compute('consistency', { response: 'whatever' }), null, 'no reference: no label');
});

test('confidence: probability of the tokens that state the final answer', () => {
  const tokenizer = loadTokenizer(TOKENIZER);
  const response = 'She had 3 cats. The answer is 42';
  const tokens = tokenizer.encode(response, { addBos: false });
  assert.equal(tokenizer.decode(tokens), response);
  const logprobs = tokens.map((_, i) => Math.log(0.5 + i / (4 * tokens.length)));
  // independently: the tokens whose characters fall in "42" (pieces decoded one by one)
  const start = response.lastIndexOf('42');
  let at = 0;
  const answerTokens: number[] = [];
  tokens.forEach((id, i) => {
    const before = tokenizer.decode(tokens.slice(0, i)).length,
      after = tokenizer.decode(tokens.slice(0, i + 1)).length;
    if (after > start && before < start + 2) answerTokens.push(i);
    at = after;
  });
  assert.equal(at, response.length);
  assert.deepEqual(tokensCoveringChars(tokenizer, tokens, start, start + 2), [
    answerTokens[0],
    answerTokens[answerTokens.length - 1] + 1,
  ]);
  const probs = answerTokens.map((i) => Math.exp(logprobs[i]));
  const ctx = { response, responseTokens: tokens, responseLogprobs: logprobs, tokenizer };
  assert.ok(Math.abs((compute('confidence', ctx) as number) - probs.reduce((a, b) => a + b, 0) / probs.length) < 1e-12);
  assert.ok(
    Math.abs((compute('confidence', { ...ctx, options: { confidence: 'last' } }) as number) - probs[probs.length - 1]) <
      1e-12,
  );
  assert.equal(
    compute('confidence', {
      ...ctx,
      response: 'no digits here',
      responseTokens: tokenizer.encode('no digits here', { addBos: false }),
    }),
    null,
  );
});

test('users add attributes as functions or as data fields', () => {
  const custom = builtinAttributes().register({
    name: 'exclaims',
    task: 'classification',
    description: 'ends with !',
    compute: ({ response }) => response.endsWith('!'),
  });
  const items = [
    { prompt: 'a', difficulty: 3, topic: 'math' },
    { prompt: 'b', difficulty: 5, topic: 'art' },
  ];
  const [exclaims, difficulty, topic, explicit] = custom.resolve(
    ['exclaims', 'difficulty', 'topic', 'field:length'],
    [...items, { length: 2 }],
  );
  assert.equal(exclaims.compute(context({ response: 'hi!' })), true);
  assert.equal(difficulty.task, 'regression');
  assert.equal(difficulty.compute(context({ fields: items[1] })), 5);
  assert.equal(topic.task, 'classification');
  assert.equal(
    explicit.compute(context({ fields: { length: 7 } })),
    7,
    'field:NAME reads the field even when a built-in has the name',
  );
  assert.throws(
    () => custom.resolve(['colour'], items),
    /unknown attribute "colour": not a built-in \(length, steps, character, choice, confidence, consistency, exclaims\) and no data item has a field "colour"/,
  );
  assert.throws(() => custom.register({ ...exclaims, name: 'length' }), /already registered/);
});

test('CLI users add attribute functions through a module', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'probe-attr-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'attrs.mjs');
  writeFileSync(
    file,
    "export const attributes = [{ name: 'questions', task: 'regression', compute: ({ response }) => (response.match(/\\?/g) ?? []).length }];\n",
  );
  const registry = builtinAttributes();
  assert.deepEqual(await registerAttributeModule(registry, file), ['questions']);
  assert.equal(registry.resolve(['questions'], [])[0].compute(context({ response: 'Why? How?' })), 2);
  const bad = join(dir, 'bad.mjs');
  writeFileSync(bad, "export default { name: 'x', compute: 3 };\n");
  await assert.rejects(
    registerAttributeModule(builtinAttributes(), bad),
    /bad\.mjs: attribute 0 needs a name, task "regression" or "classification", and a compute\(context\) function/,
  );
});
