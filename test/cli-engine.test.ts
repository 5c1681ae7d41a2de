import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ALIGNKIT } from './helpers/alignkit-cli.ts';

const STORIES = 'data/stories260K/stories260K.bin';
const TOK = 'data/stories260K/tok512.bin';
const expected = () => readFileSync('data/stories260K/greedy-200.expected.txt', 'utf8').trimEnd();
const alignkit = (...args: string[]) => execFileSync('node', [...ALIGNKIT, ...args], { encoding: 'utf8' });

test('generate prints the reference text; convert writes an HF directory that gives the same text and logits', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'alignkit-convert-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const greedy = ['--temperature', '0', '--max-new-tokens', '200'];
  assert.equal(alignkit('generate', '--model', STORIES, '--tokenizer', TOK, ...greedy).trimEnd(), expected());
  alignkit('convert', '--model', STORIES, '--tokenizer', TOK, '--out', join(dir, 'hf'));
  for (const f of ['config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json'])
    assert.ok(existsSync(join(dir, 'hf', f)), f);
  assert.equal(alignkit('generate', '--model', join(dir, 'hf'), ...greedy).trimEnd(), expected());
  const score = (model: string) =>
    JSON.parse(
      alignkit(
        'score',
        '--model',
        model,
        '--tokenizer',
        TOK,
        '--prompt',
        'Once upon a time',
        '--continuation',
        ' there was a big dog.',
        '--json',
      ),
    );
  const a = score(STORIES),
    b = score(join(dir, 'hf'));
  assert.deepEqual(a.tokens, b.tokens);
  assert.equal(a.logprobs.length, a.tokens.length);
  for (let i = 0; i < a.logprobs.length; i++) assert.ok(Math.abs(a.logprobs[i] - b.logprobs[i]) < 1e-5);
  assert.ok(Math.abs(a.total - a.logprobs.reduce((s: number, v: number) => s + v, 0)) < 1e-6);
  assert.ok(a.total < 0);
});

test('the CLI reports bad input in one line and exits non-zero', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'alignkit-bad-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const truncated = join(dir, 'truncated.bin');
  writeFileSync(truncated, readFileSync(STORIES).subarray(0, 50_000));
  for (const args of [
    ['generate', '--model', truncated, '--tokenizer', TOK],
    ['generate', '--model', STORIES, '--tokenizer', TOK, '--prompt', 'once '.repeat(600)],
    ['generate', '--model', STORIES, '--tokenizer', TOK, '--max-new-tokens', 'many'],
    ['score', '--model', STORIES, '--tokenizer', TOK, '--prompt', 'x'],
    ['generate', '--model', STORIES, '--bogus'],
  ]) {
    const r = spawnSync('node', [...ALIGNKIT, ...args], { encoding: 'utf8' });
    assert.notEqual(r.status, 0, args.join(' '));
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1, `one line for ${args.join(' ')}: ${r.stderr}`);
    assert.match(lines[0], /^alignkit \w+: /);
  }
  const r = spawnSync('node', [...ALIGNKIT, 'generate', '--model', truncated, '--tokenizer', TOK], {
    encoding: 'utf8',
  });
  assert.match(r.stderr, /truncated\.bin/);
});
