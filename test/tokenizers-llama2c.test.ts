import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Llama2cTokenizer } from '../src/tokenizers/llama2c-tokenizer.ts';

const TOK512 = 'data/stories260K/tok512.bin';
const VOCAB = 'data/stories260K/tok512.vocab';
const STORIES = 'data/tinystories-sample/tinystories.txt';

/** The pieces as the SentencePiece text dump lists them (one "piece\tscore" per line, "▁" for space). */
const vocabFile = () =>
  readFileSync(VOCAB, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => line.split('\t')[0].replaceAll('▁', ' '));

test('reads tok512.bin: 512 pieces that agree with the tok512.vocab text dump', () => {
  const tok = Llama2cTokenizer.fromFile(TOK512);
  assert.equal(tok.vocabSize, 512);
  assert.equal(tok.maxTokenLength, 7);
  const pieces = vocabFile();
  assert.equal(pieces.length, 512);
  for (let id = 3; id < 512; id++) assert.equal(tok.piece(id), pieces[id], `piece ${id}`);
});

test('exact encodings, derived from the vocabulary', () => {
  const tok = Llama2cTokenizer.fromFile(TOK512);
  const pieces = vocabFile();
  const id = (piece: string) => pieces.indexOf(piece);
  // Whole words that are pieces: BOS, then the dummy-prefixed words.
  assert.deepEqual(tok.encode('Once upon a time'), [1, id(' Once'), id(' upon'), id(' a'), id(' time')]);
  assert.deepEqual(tok.encode('Once upon a time'), [1, 403, 407, 261, 378]);
  // " Hello" is no piece: "He", "ll", "o" are the best-scored merges.
  assert.deepEqual(
    tok
      .encode('Hello world')
      .map((i) => tok.piece(i))
      .slice(1),
    [' He', 'll', 'o', ' w', 'or', 'ld'],
  );
  assert.deepEqual(tok.encode('Hello world'), [1, 346, 306, 414, 263, 304, 341]);
  // Codepoints that are pieces stay whole; others fall back to their UTF-8 bytes (id = byte + 3).
  assert.deepEqual(tok.encode('é€😀\n'), [
    1,
    id(' '),
    id('é'),
    id('€'),
    0xf0 + 3,
    0x9f + 3,
    0x98 + 3,
    0x80 + 3,
    0x0a + 3,
  ]);
  assert.deepEqual(tok.encode(''), [1]);
  assert.deepEqual(tok.encode('', { addBos: false }), []);
  assert.deepEqual(tok.encode('Lily', { addBos: false }), [id(' Lily')]);
});

test('decoding follows run.c: no leading space after BOS or at the start, <0xNN> pieces are raw bytes', () => {
  const tok = Llama2cTokenizer.fromFile(TOK512);
  assert.equal(tok.decode([1, 403, 407]), 'Once upon');
  assert.equal(tok.decode([403, 407]), 'Once upon');
  assert.equal(tok.decode([1, 403, 407], { skipSpecial: false }), '<s>Once upon');
  assert.equal(
    tok.decode([407, 2, 1, 403]),
    'uponOnce',
    'as in run.c, the piece after a BOS loses its space even mid-sequence',
  );
  assert.equal(tok.decode([0xe2 + 3, 0x82 + 3, 0xac + 3]), '€');
  assert.throws(() => tok.decode([512]), /token id 512 is outside the tokenizer's vocabulary/);
});

test('encode/decode round-trips TinyStories and odd text', () => {
  const tok = Llama2cTokenizer.fromFile(TOK512);
  const texts = [
    ...readFileSync(STORIES, 'utf8').split('\n').filter(Boolean).slice(0, 300),
    ' leading space',
    'tabs\tand\nnewlines  ',
    '中文 😀 ñ',
  ];
  for (const text of texts) {
    const ids = tok.encode(text);
    assert.ok(ids.every((i) => i >= 0 && i < 512));
    assert.equal(tok.decode(ids), text);
  }
});

test('token-by-token decoding of a growing sequence ends with the full text', () => {
  const tok = Llama2cTokenizer.fromFile(TOK512);
  const ids = tok.encode('Lily saw a big dog. 😀');
  let text = '';
  for (let n = 1; n <= ids.length; n++) text = tok.decode(ids.slice(0, n));
  assert.equal(text, 'Lily saw a big dog. 😀');
});

test('clear errors for missing, truncated and corrupt files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'alignkit-l2c-'));
  const file = join(dir, 'tok.bin');
  const record = (score: number, bytes: number[]) => {
    const b = Buffer.alloc(8 + bytes.length);
    b.writeFloatLE(score, 0);
    b.writeInt32LE(bytes.length, 4);
    Buffer.from(bytes).copy(b, 8);
    return b;
  };
  const header = (max: number) => {
    const b = Buffer.alloc(4);
    b.writeInt32LE(max, 0);
    return b;
  };
  try {
    assert.throws(
      () => Llama2cTokenizer.fromFile(file),
      (e: Error) => e.message.includes(file) && /not found/.test(e.message),
    );
    writeFileSync(file, Buffer.from([1, 2]));
    assert.throws(() => Llama2cTokenizer.fromFile(file), /shorter than its 4-byte header/);
    writeFileSync(file, header(-5));
    assert.throws(() => Llama2cTokenizer.fromFile(file), /max_token_length is -5/);
    writeFileSync(file, Buffer.concat([header(4), record(0, [65, 66]), Buffer.from([0, 0, 0])]));
    assert.throws(
      () => Llama2cTokenizer.fromFile(file),
      (e: Error) => e.message.includes(file) && /truncated: token 1/.test(e.message),
    );
    writeFileSync(file, Buffer.concat([header(4), record(0, [65, 66, 67, 68, 69])]));
    assert.throws(() => Llama2cTokenizer.fromFile(file), /token 0 has length 5.*expected 0\.\.4/);
    writeFileSync(file, Buffer.concat([header(4), record(NaN, [65])]));
    assert.throws(() => Llama2cTokenizer.fromFile(file), /non-finite score/);
    writeFileSync(file, Buffer.concat([header(4), record(0, [65])]));
    assert.throws(() => Llama2cTokenizer.fromFile(file), /needs at least 259 tokens/);
    if (existsSync(TOK512)) {
      writeFileSync(file, readFileSync(TOK512).subarray(0, 3000));
      assert.throws(() => Llama2cTokenizer.fromFile(file), /truncated/);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
