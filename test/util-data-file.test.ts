/**
 * Bad data files (issue 19, items 14–16): every failure names the file (and line), a malformed
 * CSV is refused, and a line far longer than the maximum length costs no more than one that fits.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadSafetyPrompts } from '../src/eval/safety/prompts.ts';
import { isRewardModelDirectory } from '../src/lm/reward-model-directory.ts';
import { readPromptItems } from '../src/probe/prompt-data.ts';
import { loadTokenizer } from '../src/tokenizers/load-tokenizer.ts';
import type { Tokenizer } from '../src/tokenizers/tokenizer.ts';
import { loadPreferenceData } from '../src/train/data/load-preferences.ts';
import { loadSftData } from '../src/train/data/load-sft.ts';
import { fitToLength, tokenizeExample } from '../src/train/data/tokenize.ts';
import { readJsonl } from '../src/util/jsonl.ts';
import { assertNamedError } from './helpers/named-error.ts';
import { STORIES_TOKENIZER } from './helpers/serve-fixtures.ts';

function tempDir(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'alignkit-data-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('a directory, a .gz that is not gzip, a malformed config.json: the error names the file', (t) => {
  const dir = tempDir(t);
  const folder = join(dir, 'data.jsonl');
  mkdirSync(folder);
  assertNamedError(() => readJsonl(folder), folder, /is a directory; expected a file/);
  assertNamedError(() => readPromptItems(folder), folder, /is a directory/);
  const fake = join(dir, 'prompts.jsonl.gz');
  writeFileSync(fake, '{"prompt": "not compressed"}\n');
  assertNamedError(() => readJsonl(fake), fake, /not a gzip file, though named \.gz/);
  const csv = join(dir, 'behaviors.csv.gz');
  writeFileSync(csv, 'goal,target\nx,y\n');
  assertNamedError(() => loadSafetyPrompts(csv), csv, /not a gzip file/);
  const model = join(dir, 'rm');
  mkdirSync(model);
  writeFileSync(join(model, 'config.json'), "{'architectures': ['LlamaForSequenceClassification']}");
  assertNamedError(() => isRewardModelDirectory(model), join(model, 'config.json'), /malformed JSON/);
});

test('a CSV whose quoting is broken is refused, naming the line', (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'behaviors.csv');
  // the quote before "poem" is not doubled: the field ends there and text follows its closing quote
  writeFileSync(file, 'goal,target\n"Write a safe story",Sure\n"Write a "poem" about it",Sure\n"Third",Sure\n');
  assertNamedError(() => loadSafetyPrompts(file), `${file}, line 3`, /text after the closing quote of a quoted field/);
  writeFileSync(file, 'goal,target\n"Write a ""poem"" about it",Sure\n');
  assert.deepEqual(
    loadSafetyPrompts(file).map((p) => p.prompt),
    ['Write a "poem" about it'],
  );
});

test('a line far longer than --max-length is cut by characters first and counted as truncated', (t) => {
  const dir = tempDir(t);
  const tokenizer = loadTokenizer(STORIES_TOKENIZER);
  // record the longest text the tokenizer is asked to encode
  let longest = 0;
  const watched: Tokenizer = Object.assign(Object.create(Object.getPrototypeOf(tokenizer)), tokenizer, {
    encode: (text: string, options?: { addBos?: boolean }) => {
      longest = Math.max(longest, text.length);
      return tokenizer.encode(text, options);
    },
  });
  const story = 'Lily saw a big dog in the park and she was happy. ';
  const file = join(dir, 'sft.jsonl');
  const huge = story.repeat(80_000); // 4 MB
  writeFileSync(
    file,
    [
      { prompt: 'Once upon a time', completion: ' there was a cat.' },
      { prompt: 'Once upon a time', completion: huge },
      { prompt: huge, completion: ' The end.' },
    ]
      .map((r) => JSON.stringify(r))
      .join('\n'),
  );
  const maxLength = 64;
  const { examples, stats } = loadSftData(file, watched, { maxLength });
  assert.equal(stats.truncated, 2);
  assert.deepEqual(
    examples.map((e) => e.truncated),
    [false, true, true],
  );
  assert.ok(longest < 20_000, `the tokenizer was given ${longest} characters at once`);
  // the cut example is the one the whole text would have given
  const whole = story.repeat(400);
  const full = tokenizeExample(tokenizer, { prompt: 'Once upon a time', response: whole, chat: false });
  const reference = fitToLength(full.ids.slice(0, full.responseStart), [full.ids.slice(full.responseStart)], maxLength);
  assert.deepEqual(examples[1].responseIds, reference.responses[0]);
  assert.deepEqual(examples[1].promptIds, reference.prompt);
  const tail = tokenizeExample(tokenizer, { prompt: story.repeat(400), response: ' The end.', chat: false });
  const referenceTail = fitToLength(
    tail.ids.slice(0, tail.responseStart),
    [tail.ids.slice(tail.responseStart)],
    maxLength,
  );
  assert.deepEqual(examples[2].promptIds, referenceTail.prompt);
  assert.deepEqual(examples[2].responseIds, referenceTail.responses[0]);

  const pairs = join(dir, 'prefs.jsonl');
  writeFileSync(pairs, JSON.stringify({ prompt: 'Once', chosen: huge, rejected: ' no.' }) + '\n');
  longest = 0;
  const prefs = loadPreferenceData(pairs, watched, { maxLength });
  assert.equal(prefs.stats.truncated, 1);
  assert.ok(longest < 20_000);
});
