import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HfTokenizer } from '../src/tokenizers/hf-tokenizer.ts';
import { Llama2cTokenizer } from '../src/tokenizers/llama2c-tokenizer.ts';
import { llama2cToHfTokenizer } from '../src/tokenizers/llama2c-to-hf.ts';
import {
  GPT2_EOS_ID,
  gpt2TokenizerConfig,
  gpt2TokenizerJson,
  writeGpt2TokenizerDir,
} from './helpers/gpt2-tokenizer.ts';

const require = createRequire(import.meta.url);
const gpt3Encoder = require('gpt-3-encoder') as { encode(text: string): number[] };

const STORIES = 'data/tinystories-sample/tinystories.txt';
const TOK512 = 'data/stories260K/tok512.bin';
const gpt2 = new HfTokenizer(gpt2TokenizerJson(), gpt2TokenizerConfig(), 'gpt2');

const sampleLines = (): string[] => {
  const lines = existsSync(STORIES) ? readFileSync(STORIES, 'utf8').split('\n').filter(Boolean).slice(0, 300) : [];
  return [...lines, 'Hello world', " it's 12,345 — naïve café ☕ 😀\n\n  spaced\ttabs ", '<|endoftext|>Next doc', ''];
};

test('GPT-2: known encodings', () => {
  assert.deepEqual(gpt2.encode('Hello world'), [15496, 995]);
  assert.deepEqual(gpt2.encode('The quick brown fox'), [464, 2068, 7586, 21831]);
  assert.deepEqual(gpt2.encode('<|endoftext|>'), [GPT2_EOS_ID]);
  assert.equal(gpt2.vocabSize, 50257);
  assert.equal(gpt2.bosId, GPT2_EOS_ID);
  assert.equal(gpt2.eosId, GPT2_EOS_ID);
  assert.equal(gpt2.padId, GPT2_EOS_ID, 'no pad token: falls back to eos');
  assert.equal(gpt2.addBosByDefault, false, 'GPT-2 adds no BOS by default');
  assert.deepEqual(gpt2.encode('Hello world', { addBos: true }), [GPT2_EOS_ID, 15496, 995]);
  assert.deepEqual(gpt2.encode('', { addBos: true }), [GPT2_EOS_ID]);
  assert.deepEqual(gpt2.encode(''), []);
});

test("GPT-2: encodings equal OpenAI's encoder (gpt-3-encoder) and the library, and decode inverts them", () => {
  assert.ok(gpt2.usesFastEncoder && gpt2.usesPieceCache);
  for (const line of sampleLines()) {
    const ids = gpt2.encode(line);
    assert.deepEqual(ids, gpt2.encodeWithLibrary(line), line);
    if (!line.includes('<|endoftext|>')) assert.deepEqual(ids, gpt3Encoder.encode(line), line);
    assert.equal(gpt2.decode(ids, { skipSpecial: false }), line);
    assert.equal(gpt2.decode(ids, { skipSpecial: false }), gpt2.decodeWithLibrary(ids, { skipSpecial: false }));
  }
});

test('GPT-2: special tokens are dropped on decode by default', () => {
  const ids = gpt2.encode('Hi<|endoftext|>there');
  assert.deepEqual(ids, [17250, GPT2_EOS_ID, 8117]);
  assert.equal(gpt2.decode(ids), 'Hithere');
  assert.equal(gpt2.decode(ids, { skipSpecial: false }), 'Hi<|endoftext|>there');
  assert.equal(gpt2.decode([]), '');
});

test('token-by-token decoding of a growing sequence ends with the full text; split UTF-8 shows as U+FFFD until complete', () => {
  const text = 'Café 😀 ok';
  const ids = gpt2.encode(text);
  let last = '';
  for (let n = 1; n <= ids.length; n++) last = gpt2.decode(ids.slice(0, n));
  assert.equal(last, text);
  const emoji = gpt2.encode('😀');
  assert.ok(emoji.length > 1, 'the emoji takes several byte tokens');
  assert.ok(gpt2.decode(emoji.slice(0, 1)).includes('\uFFFD'));
});

test('decode rejects ids outside the vocabulary', () => {
  assert.throws(() => gpt2.decode([50257]), /token id 50257 is outside the tokenizer's vocabulary/);
  assert.throws(() => gpt2.decode([-1]), /outside/);
});

test('SentencePiece-style (byte fallback) decoding from the per-id cache equals the library', () => {
  const { tokenizerJson, tokenizerConfig } = llama2cToHfTokenizer(Llama2cTokenizer.fromFile(TOK512));
  const tok = new HfTokenizer(tokenizerJson, tokenizerConfig, 'llama-style');
  assert.ok(tok.usesPieceCache);
  assert.equal(tok.usesFastEncoder, false);
  assert.equal(tok.addBosByDefault, true);
  let seed = 7;
  const rand = (n: number) => (seed = (seed * 1103515245 + 12345) % 2147483648) % n;
  for (let k = 0; k < 300; k++) {
    const ids = Array.from({ length: 1 + rand(12) }, () => rand(tok.vocabSize));
    for (const skipSpecial of [true, false]) {
      assert.equal(tok.decode(ids, { skipSpecial }), tok.decodeWithLibrary(ids, { skipSpecial }), JSON.stringify(ids));
    }
  }
  for (const line of sampleLines()) {
    const ids = tok.encode(line);
    assert.equal(tok.decode(ids), tok.decodeWithLibrary(ids));
  }
});

test('a directory with tokenizer_config.json and chat_template.jinja', () => {
  const dir = mkdtempSync(join(tmpdir(), 'alignkit-hf-'));
  try {
    writeGpt2TokenizerDir(dir);
    writeFileSync(
      join(dir, 'chat_template.jinja'),
      '{% for m in messages %}[{{ m.role }}] {{ m.content }}{{ eos_token }}{% endfor %}{% if add_generation_prompt %}[assistant]{% endif %}',
    );
    const tok = HfTokenizer.fromDirectory(dir);
    assert.equal(tok.hasChatTemplate, true);
    assert.equal(
      tok.applyChatTemplate([{ role: 'user', content: 'hi' }], { addGenerationPrompt: true }),
      '[user] hi<|endoftext|>[assistant]',
    );
    assert.deepEqual(tok.encode('Hello world'), [15496, 995]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('add_bos_token from tokenizer_config.json decides the default; a text starting with BOS gets no second one', () => {
  const tok = new HfTokenizer(gpt2TokenizerJson(), { ...gpt2TokenizerConfig(), add_bos_token: true }, 'gpt2-bos');
  assert.deepEqual(tok.encode('Hello world'), [GPT2_EOS_ID, 15496, 995]);
  assert.deepEqual(tok.encode('<|endoftext|>Hello world'), [GPT2_EOS_ID, 15496, 995]);
  assert.deepEqual(tok.encode('Hello world', { addBos: false }), [15496, 995]);
});

test('clear errors for bad tokenizer files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'alignkit-hf-bad-'));
  try {
    assert.throws(
      () => HfTokenizer.fromDirectory(dir),
      (e: Error) => e.message.includes(dir) && /no tokenizer.json/.test(e.message),
    );
    writeFileSync(join(dir, 'tokenizer.json'), '{"model": ');
    assert.throws(
      () => HfTokenizer.fromDirectory(dir),
      (e: Error) => e.message.includes(join(dir, 'tokenizer.json')) && /malformed JSON/.test(e.message),
    );
    writeFileSync(join(dir, 'tokenizer.json'), '{"version": "1.0"}');
    assert.throws(() => HfTokenizer.fromDirectory(dir), /tokenizer.json.*expected an object with a "model"/);
    writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(gpt2TokenizerJson()));
    writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify({ bos_token: '<s>' }));
    assert.throws(
      () => HfTokenizer.fromDirectory(dir),
      (e: Error) => e.message.includes('tokenizer_config.json') && /bos_token "<s>" is not a token/.test(e.message),
    );
    writeFileSync(join(dir, 'tokenizer_config.json'), '[1, 2]');
    assert.throws(() => HfTokenizer.fromDirectory(dir), /tokenizer_config.json: expected a JSON object/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
