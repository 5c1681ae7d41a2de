import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadSftData } from '../src/train/data/load-sft.ts';
import { loadPreferenceData } from '../src/train/data/load-preferences.ts';
import { fitToLength } from '../src/train/data/tokenize.ts';
import { epochBatches, holdOut } from '../src/train/data/batches.ts';
import { loadTokenizer } from '../src/tokenizers/load-tokenizer.ts';
import { STORIES_TOKENIZER } from './helpers/model-wrappers.ts';

const dir = mkdtempSync(join(tmpdir(), 'alignkit-train-data-'));
const file = (name: string, lines: unknown[]) => {
  const path = join(dir, name);
  writeFileSync(path, lines.map((l) => (typeof l === 'string' ? l : JSON.stringify(l))).join('\n') + '\n');
  return path;
};

test('SFT formats: prompt/completion, text, messages; BOS first, EOS last, prompt masked', () => {
  const tok = loadTokenizer(STORIES_TOKENIZER);
  const path = file('sft.jsonl', [
    { prompt: 'Once upon a time', completion: ' there was a cat.' },
    { text: 'The dog ran.' },
    {
      messages: [
        { role: 'user', content: 'Tell a story.' },
        { role: 'assistant', content: 'A cat sat.' },
      ],
    },
    { prompt: [{ role: 'user', content: 'Hi' }], completion: [{ role: 'assistant', content: 'Hello.' }] },
  ]);
  const { examples, stats } = loadSftData(path, tok, { maxLength: 512 });
  assert.equal(stats.examples, 4);
  assert.equal(stats.truncated, 0);
  const [pc, text, messages, chat] = examples;
  assert.equal(pc.promptIds[0], tok.bosId);
  assert.equal(pc.responseIds.at(-1), tok.eosId);
  assert.equal(tok.decode(pc.responseIds).trim(), 'there was a cat.');
  assert.equal(tok.decode([...pc.promptIds, ...pc.responseIds]).trim(), 'Once upon a time there was a cat.');
  assert.deepEqual(text.promptIds, [tok.bosId]);
  assert.equal(tok.decode(text.responseIds).trim(), 'The dog ran.');
  assert.ok(
    tok.decode(messages.promptIds).includes('User: Tell a story.'),
    'messages rendered with the chat template (plain fallback here)',
  );
  assert.match(tok.decode(messages.responseIds), /A cat sat\./);
  assert.notEqual(
    messages.responseIds.at(-1),
    tok.eosId,
    'chat-templated turns end with the template, not an appended EOS',
  );
  assert.match(tok.decode(chat.responseIds), /Hello\./);
  assert.equal(pc.line, 1);
  assert.equal(chat.line, 4);
});

test('preference formats: explicit prompt, implicit prompt (shared beginning), chat messages', () => {
  const tok = loadTokenizer(STORIES_TOKENIZER);
  const path = file('pref.jsonl', [
    { prompt: 'Tom was', chosen: ' happy.', rejected: ' sad and alone.' },
    { chosen: 'Tom was happy.', rejected: 'Tom was sad.' },
    {
      chosen: [
        { role: 'user', content: 'Hi' },
        { role: 'assistant', content: 'Hello!' },
      ],
      rejected: [
        { role: 'user', content: 'Hi' },
        { role: 'assistant', content: 'Go away.' },
      ],
    },
  ]);
  const { pairs } = loadPreferenceData(path, tok, { maxLength: 512 });
  assert.equal(pairs.length, 3);
  const [explicit, implicit, chat] = pairs;
  assert.equal(tok.decode(explicit.chosenIds).trim(), 'happy.');
  assert.equal(explicit.chosenIds.at(-1), tok.eosId);
  assert.equal(explicit.rejectedIds.at(-1), tok.eosId);
  assert.equal(implicit.text?.prompt, 'Tom was');
  assert.equal(tok.decode(implicit.rejectedIds).trim(), 'sad.');
  assert.match(tok.decode(chat.promptIds), /User: Hi\nAssistant:$/);
  assert.match(tok.decode(chat.chosenIds), /Hello!/);
});

test('bad input: malformed JSON, non-objects, missing fields and empty responses name the file, line and field', () => {
  const tok = loadTokenizer(STORIES_TOKENIZER);
  const opts = { maxLength: 512 };
  const malformed = file('bad.jsonl', [{ text: 'ok' }, '{"prompt": "x", "completion": ']);
  assert.throws(
    () => loadSftData(malformed, tok, opts),
    (e: Error) => e.message.includes(malformed) && /line 2/.test(e.message) && /malformed JSON/.test(e.message),
  );
  assert.throws(() => loadSftData(file('arr.jsonl', ['[1,2]']), tok, opts), /line 1: expected a JSON object/);
  assert.throws(
    () => loadSftData(file('nofield.jsonl', [{ text: 'ok' }, { question: 'x' }]), tok, opts),
    /line 2: expected "prompt" and "completion", "messages", or "text"/,
  );
  assert.throws(
    () => loadSftData(file('empty.jsonl', [{ prompt: 'x', completion: '   ' }]), tok, opts),
    /line 1, field "completion": empty text/,
  );
  assert.throws(() => loadSftData(file('nocompl.jsonl', [{ prompt: 'x' }]), tok, opts), /field "completion": missing/);
  assert.throws(
    () => loadSftData(file('lastuser.jsonl', [{ messages: [{ role: 'user', content: 'x' }] }]), tok, opts),
    /last message must be the assistant/,
  );
  assert.throws(
    () => loadPreferenceData(file('norej.jsonl', [{ prompt: 'x', chosen: 'a' }]), tok, opts),
    /line 1, field "rejected": missing "rejected"/,
  );
  assert.throws(
    () => loadPreferenceData(file('emptyrej.jsonl', [{ prompt: 'x', chosen: 'a', rejected: '' }]), tok, opts),
    /field "rejected": empty/,
  );
  assert.throws(
    () =>
      loadPreferenceData(
        file('badmsg.jsonl', [{ prompt: 'x', chosen: [{ role: 'assistant' }], rejected: 'b' }]),
        tok,
        opts,
      ),
    /field "chosen": message 0/,
  );
  assert.throws(() => loadSftData(file('nothing.jsonl', []), tok, opts), /no examples/);
  assert.throws(() => loadSftData(join(dir, 'missing.jsonl'), tok, opts), /file not found/);
});

test('truncation keeps the response and BOS, cuts the prompt from the left, and counts what it cut', () => {
  assert.deepEqual(fitToLength([1, 10, 11, 12, 13], [[20, 21, 2]], 6), {
    prompt: [1, 12, 13],
    responses: [[20, 21, 2]],
    truncated: true,
  });
  assert.deepEqual(fitToLength([1, 10], [[20, 21, 22, 23, 2]], 4), {
    prompt: [1],
    responses: [[20, 21, 22]],
    truncated: true,
  });
  assert.deepEqual(fitToLength([1, 10], [[20], [30, 31, 32]], 4), {
    prompt: [1],
    responses: [[20], [30, 31, 32]],
    truncated: true,
  });
  assert.equal(fitToLength([1, 10], [[20]], 4).truncated, false);
  const tok = loadTokenizer(STORIES_TOKENIZER);
  const long = 'and then the little cat ran '.repeat(30);
  const { examples, stats } = loadSftData(
    file('long.jsonl', [
      { prompt: long, completion: ' The end.' },
      { prompt: 'Hi', completion: ' short' },
    ]),
    tok,
    { maxLength: 32 },
  );
  assert.equal(stats.truncated, 1);
  assert.ok(examples[0].truncated && !examples[1].truncated);
  assert.equal(examples[0].promptIds.length + examples[0].responseIds.length, 32);
  assert.equal(examples[0].promptIds[0], tok.bosId);
  assert.equal(tok.decode(examples[0].responseIds).trim(), 'The end.');
  const pairs = loadPreferenceData(file('longpair.jsonl', [{ prompt: 'Hi', chosen: long, rejected: ' no' }]), tok, {
    maxLength: 16,
  });
  assert.equal(pairs.stats.truncated, 1);
  assert.equal(pairs.pairs[0].promptIds.length + pairs.pairs[0].chosenIds.length, 16);
});

test('batches: seeded, a new order each epoch, every example once, little padding', () => {
  const lengths = Array.from({ length: 100 }, (_, i) => ((i * 37) % 50) + 1);
  const a = epochBatches(lengths, 8, 1, 0);
  assert.deepEqual(a, epochBatches(lengths, 8, 1, 0), 'same seed and epoch, same batches');
  assert.notDeepEqual(a, epochBatches(lengths, 8, 1, 1), 'another epoch, another order');
  assert.notDeepEqual(a, epochBatches(lengths, 8, 2, 0), 'another seed, another order');
  assert.deepEqual(
    a.flat().sort((x, y) => x - y),
    lengths.map((_, i) => i),
  );
  assert.equal(a.length, 13);
  const spread = (b: number[]) => Math.max(...b.map((i) => lengths[i])) - Math.min(...b.map((i) => lengths[i]));
  assert.ok(
    a.every((b) => spread(b) <= 12),
    'length-sorted windows keep each batch close in length',
  );
  const split = holdOut(lengths, 0.1, 3);
  assert.equal(split.heldOut.length, 10);
  assert.equal(split.train.length, 90);
});
