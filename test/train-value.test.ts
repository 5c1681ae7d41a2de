import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadModel } from '../src/lm/load.ts';
import { requireScalarHead } from '../src/decode/scalar-head.ts';
import { ALIGNKIT } from './helpers/alignkit-cli.ts';

const STORIES = 'data/stories260K/stories260K.bin';
const TOK = 'data/stories260K/tok512.bin';

const happy = [
  'They laughed and played all day.',
  'She smiled and hugged her mom.',
  'He was so happy with his new toy.',
  'They had fun in the sun together.',
];
const sad = [
  'He cried because his toy was broken.',
  'She was sad and lonely.',
  'The dog was lost and scared.',
  'They were angry and went home.',
];

test('train value: the value model learns which partial responses lead to high reward, and loads with its head', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'alignkit-value-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const lines: string[] = [];
  for (let i = 0; i < 12; i++)
    for (const [texts, reward] of [
      [happy, 1],
      [sad, -1],
    ] as const)
      lines.push(JSON.stringify({ prompt: 'Once upon a time', completion: ' ' + texts[i % 4], reward }));
  writeFileSync(join(dir, 'value.jsonl'), lines.join('\n') + '\n');
  execFileSync(
    'node',
    [
      ...ALIGNKIT,
      'train',
      'value',
      '--model',
      STORIES,
      '--tokenizer',
      TOK,
      '--data',
      join(dir, 'value.jsonl'),
      '--out',
      join(dir, 'run'),
      '--steps',
      '40',
      '--batch-size',
      '8',
      '--lr',
      '3e-3',
      '--quiet',
    ],
    { encoding: 'utf8' },
  );
  const model = requireScalarHead(await loadModel(join(dir, 'run', 'model')), 'value');
  const ids = (text: string) => model.tokenizer.encode('Once upon a time ' + text, { addBos: true });
  const [h, s] = await model.scalarHead([ids(happy[0]), ids(sad[0])]);
  assert.ok(h > s + 0.5, `value of a happy response ${h} should exceed a sad one ${s}`);
  // a prefix already carries the signal (values are trained at every prefix)
  const [hp, sp] = await model.scalarHead([ids('She smiled'), ids('He cried')]);
  assert.ok(hp > sp, `prefix values ${hp} vs ${sp}`);
  await model.dispose();
});

test('train value: a line without a numeric reward is named', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'alignkit-value-bad-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(
    join(dir, 'v.jsonl'),
    '{"prompt":"a","completion":"b","reward":1}\n{"prompt":"a","completion":"b","reward":"high"}\n',
  );
  const r = spawnSync(
    'node',
    [
      ...ALIGNKIT,
      'train',
      'value',
      '--model',
      STORIES,
      '--tokenizer',
      TOK,
      '--data',
      join(dir, 'v.jsonl'),
      '--out',
      join(dir, 'run'),
    ],
    { encoding: 'utf8' },
  );
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /v\.jsonl, line 2, field "reward": expected a finite number/);
});
