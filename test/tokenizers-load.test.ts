import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkTokenizerMatchesModel, loadTokenizer } from '../src/tokenizers/load-tokenizer.ts';
import { HfTokenizer } from '../src/tokenizers/hf-tokenizer.ts';
import { Llama2cTokenizer } from '../src/tokenizers/llama2c-tokenizer.ts';
import { writeGpt2TokenizerDir } from './helpers/gpt2-tokenizer.ts';

const TOK512 = 'data/stories260K/tok512.bin';

test('loads an HF directory, a tokenizer.json file, and a llama2.c .bin', () => {
  const dir = mkdtempSync(join(tmpdir(), 'alignkit-load-'));
  try {
    writeGpt2TokenizerDir(dir);
    const fromDir = loadTokenizer(dir);
    assert.ok(fromDir instanceof HfTokenizer);
    assert.deepEqual(fromDir.encode('Hello world'), [15496, 995]);
    const fromFile = loadTokenizer(join(dir, 'tokenizer.json'));
    assert.ok(fromFile instanceof HfTokenizer);
    assert.equal(fromFile.eosId, 50256, 'tokenizer_config.json beside the file is read');
    if (existsSync(TOK512)) assert.ok(loadTokenizer(TOK512) instanceof Llama2cTokenizer);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('missing and unusable paths: one clear error naming the path', () => {
  const dir = mkdtempSync(join(tmpdir(), 'alignkit-load-bad-'));
  try {
    const missing = join(dir, 'nope');
    assert.throws(
      () => loadTokenizer(missing),
      (e: Error) => e.message.startsWith(missing) && /tokenizer not found/.test(e.message),
    );
    const spm = join(dir, 'spm');
    mkdirSync(spm);
    writeFileSync(join(spm, 'tokenizer.model'), 'x');
    assert.throws(
      () => loadTokenizer(spm),
      /no tokenizer.json in this directory \(it has a SentencePiece tokenizer.model/,
    );
    const junk = join(dir, 'junk.bin');
    writeFileSync(junk, 'this is not a tokenizer at all');
    assert.throws(
      () => loadTokenizer(junk),
      (e: Error & { kind?: string }) => e.kind === 'format' && e.message.startsWith(junk),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("checkTokenizerMatchesModel: a tokenizer with ids beyond the model's vocabulary is a clear error", () => {
  const l2c = Llama2cTokenizer.fromFile(TOK512);
  checkTokenizerMatchesModel(l2c, 512, 'model.bin');
  assert.throws(
    () => checkTokenizerMatchesModel(l2c, 300, 'model.bin'),
    /model.bin: the tokenizer \(.*tok512.bin\) has 512 tokens but the model's vocabulary has 300/,
  );
  assert.throws(
    () => checkTokenizerMatchesModel(l2c, 32000, 'model.bin'),
    /has 512 tokens but the model's vocabulary has 32000/,
    'llama2.c pairs tokenizer and model 1:1',
  );
  const dir = mkdtempSync(join(tmpdir(), 'alignkit-match-'));
  try {
    writeGpt2TokenizerDir(dir);
    const gpt2 = loadTokenizer(dir);
    checkTokenizerMatchesModel(gpt2, 50304, 'padded-embedding'); // HF models may have more rows than tokens
    assert.throws(
      () => checkTokenizerMatchesModel(gpt2, 50000, 'small/config.json'),
      /small\/config.json: .*has 50257 tokens but the model's vocabulary has 50000/,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
