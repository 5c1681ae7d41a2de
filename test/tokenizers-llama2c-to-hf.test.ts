import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Llama2cTokenizer } from '../src/tokenizers/llama2c-tokenizer.ts';
import { llama2cToHfTokenizer } from '../src/tokenizers/llama2c-to-hf.ts';
import { HfTokenizer } from '../src/tokenizers/hf-tokenizer.ts';
import { saveTokenizer } from '../src/tokenizers/save-tokenizer.ts';
import { loadTokenizer } from '../src/tokenizers/load-tokenizer.ts';

const TOK512 = 'data/stories260K/tok512.bin';
const STORIES = 'data/tinystories-sample/tinystories.txt';

/** A few hundred TinyStories lines, a long multi-paragraph text, and strings that stress the merge order. */
function texts(): string[] {
  const story = readFileSync(STORIES, 'utf8');
  const out = story.split('\n').filter(Boolean).slice(0, 400);
  out.push(story.slice(0, 6000));
  let seed = 3;
  const rand = (n: number) => (seed = (seed * 1103515245 + 12345) % 2147483648) % n;
  const parts = [
    'a',
    'b',
    'e',
    't',
    'h',
    ' ',
    '  ',
    '\n',
    'é',
    '€',
    '😀',
    'Lily',
    ' the',
    '.',
    ',',
    '"',
    'ing',
    'x',
    'q',
    '中',
  ];
  for (let i = 0; i < 300; i++)
    out.push(Array.from({ length: 1 + rand(25) }, () => parts[rand(parts.length)]).join(''));
  return out;
}

test('the converted tokenizer.json encodes and decodes exactly as the llama2.c tokenizer', () => {
  const l2c = Llama2cTokenizer.fromFile(TOK512);
  const converted = llama2cToHfTokenizer(l2c);
  assert.equal(converted.tiedScores, 0);
  const hf = new HfTokenizer(converted.tokenizerJson, converted.tokenizerConfig, 'converted');
  assert.equal(hf.vocabSize, 512);
  assert.deepEqual([hf.bosId, hf.eosId, hf.padId], [l2c.bosId, l2c.eosId, l2c.padId]);
  for (const text of texts()) {
    const ids = l2c.encode(text);
    assert.deepEqual(hf.encode(text), ids, JSON.stringify(text.slice(0, 80)));
    assert.deepEqual(hf.encodeWithLibrary(text), ids.slice(1));
    assert.equal(hf.decode(ids), l2c.decode(ids));
  }
});

test('saved as an HF directory, it loads back (tokenizer.json, tokenizer_config.json, special_tokens_map.json)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'alignkit-convert-'));
  try {
    const l2c = Llama2cTokenizer.fromFile(TOK512);
    saveTokenizer(l2c, dir, { modelMaxLength: 512 });
    const config = JSON.parse(readFileSync(join(dir, 'tokenizer_config.json'), 'utf8'));
    assert.equal(config.model_max_length, 512);
    assert.equal(config.add_bos_token, true);
    assert.deepEqual(JSON.parse(readFileSync(join(dir, 'special_tokens_map.json'), 'utf8')), {
      bos_token: '<s>',
      eos_token: '</s>',
      unk_token: '<unk>',
    });
    const tok = loadTokenizer(dir);
    assert.ok(tok instanceof HfTokenizer);
    assert.equal(tok.hasChatTemplate, false);
    const text = 'Once upon a time, Lily found a shiny 😀 stone.';
    assert.deepEqual(tok.encode(text), l2c.encode(text));
    // Saving the loaded HF tokenizer again writes the same tokenizer.json.
    const again = join(dir, 'again');
    saveTokenizer(tok, again);
    assert.equal(
      readFileSync(join(again, 'tokenizer.json'), 'utf8'),
      readFileSync(join(dir, 'tokenizer.json'), 'utf8'),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a llama2.c tokenizer without byte-fallback pieces cannot be converted exactly: clear error', () => {
  const l2c = Llama2cTokenizer.fromFile(TOK512);
  const pieces = l2c.pieces.map((p) => p.slice());
  pieces[3 + 0x41] = new TextEncoder().encode('A?');
  const broken = new Llama2cTokenizer(pieces, l2c.scores, l2c.maxTokenLength, 'broken.bin');
  assert.throws(
    () => llama2cToHfTokenizer(broken),
    /broken.bin.*token 68 is "A\?", expected the byte-fallback piece <0x41>/,
  );
});
