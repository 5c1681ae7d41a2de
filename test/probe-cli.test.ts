import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { main } from '../src/cli/main.ts';
import type { Summary } from '../src/run/summary.ts';
import { ALIGNKIT } from './helpers/alignkit-cli.ts';

const MODEL = 'data/stories260K/stories260K.bin';
const TOKENIZER = 'data/stories260K/tok512.bin';
const STORIES = 'data/tinystories-sample/tinystories.txt';
const run = promisify(execFile);

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'probe-cli-'));
  const paragraphs = readFileSync(STORIES, 'utf8')
    .split(/\n\s*\n/)
    .map((p) => p.trim())
    .filter(Boolean)
    .slice(0, 30);
  writeFileSync(
    join(dir, 'prompts.jsonl'),
    paragraphs
      .map((p, i) => JSON.stringify({ prompt: p.split(/\s+/).slice(0, 6).join(' '), paragraph: i }))
      .join('\n') + '\n',
  );
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** Runs the CLI in-process, with console output captured. */
async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out: string[] = [],
    err: string[] = [];
  const log = console.log,
    error = console.error;
  console.log = (...a: unknown[]) => {
    out.push(a.join(' '));
  };
  console.error = (...a: unknown[]) => {
    err.push(a.join(' '));
  };
  try {
    const code = await main(args);
    return { code, stdout: out.join('\n'), stderr: err.join('\n') };
  } finally {
    console.log = log;
    console.error = error;
  }
}

test('probe collect then probe fit: the table, summary.json with layer curves per control, report.html; fit --resume repeats nothing', async () => {
  const store = join(dir, 'store'),
    fit = join(dir, 'fit');
  const collected = await cli([
    'probe',
    'collect',
    '--model',
    MODEL,
    '--tokenizer',
    TOKENIZER,
    '--data',
    join(dir, 'prompts.jsonl'),
    '--attributes',
    'length,paragraph',
    '--out',
    store,
    '--max-new-tokens',
    '48',
    '--stop',
    '.',
    '--timeline',
    '4',
    '--control-random-init',
    '--dtype',
    'float16',
  ]);
  assert.equal(collected.code, 0, collected.stderr);
  assert.match(collected.stdout, /Collected representations/);
  assert.ok(existsSync(join(store, 'report.html')));
  const meta = JSON.parse(readFileSync(join(store, 'meta.json'), 'utf8'));
  assert.deepEqual(meta.layers, [0, 1, 2, 3, 4, 5]);
  assert.deepEqual(meta.groups, ['prompt', 'after-4', 'random-init']);
  assert.deepEqual(meta.attributes, [
    { name: 'length', task: 'regression' },
    { name: 'paragraph', task: 'regression' },
  ]);

  const fitted = await cli(['probe', 'fit', '--in', store, '--probe', 'linear', '--seeds', '2', '--out', fit]);
  assert.equal(fitted.code, 0, fitted.stderr);
  assert.match(fitted.stdout, /Probes on the last prompt token/);
  assert.match(fitted.stdout, /length +linear +spearman/);
  const summary: Summary = JSON.parse(readFileSync(join(fit, 'summary.json'), 'utf8'));
  assert.equal(summary.kind, 'probe fit');
  const curve = summary.plots.find((p) => p.title === 'Layer curve: length (linear probe)');
  assert.ok(curve, summary.plots.map((p) => p.title).join('; '));
  assert.deepEqual(
    curve.series.map((s) => s.name),
    ['model states', 'random-init model', 'shuffled labels', 'surface features', 'chance'],
  );
  assert.deepEqual(
    curve.series[0].points.map((p) => p[0]),
    [0, 1, 2, 3, 4, 5],
  );
  const all = summary.plots.find((p) => p.title.startsWith('Layer curves, all attributes'));
  assert.ok(all?.series.some((s) => s.name === 'paragraph (random-init)'));
  assert.ok(summary.tables.some((t) => t.title.startsWith('During generation')));
  assert.ok(existsSync(join(fit, 'report.html')));
  const rows = readFileSync(join(fit, 'results.jsonl'), 'utf8').trim().split('\n').length;
  // per attribute: 6 layers × (prompt, shuffled, random-init, after-4) + surface
  assert.equal(rows, 2 * (6 * 4 + 1));

  const again = await cli([
    'probe',
    'fit',
    '--in',
    store,
    '--probe',
    'linear',
    '--seeds',
    '2',
    '--out',
    fit,
    '--resume',
  ]);
  assert.equal(again.code, 0, again.stderr);
  assert.equal(readFileSync(join(fit, 'results.jsonl'), 'utf8').trim().split('\n').length, rows);
  const refused = await cli(['probe', 'fit', '--in', store, '--probe', 'linear', '--out', fit]);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /already holds a run; pass --resume/);

  const mlp = await cli([
    'probe',
    'fit',
    '--in',
    store,
    '--probe',
    'mlp',
    '--seeds',
    '1',
    '--attributes',
    'length',
    '--layers',
    '5',
    '--controls',
    'none',
    '--hidden-sizes',
    '8',
    '--max-epochs',
    '20',
    '--out',
    join(dir, 'fit-mlp'),
  ]);
  assert.equal(mlp.code, 0, mlp.stderr);
  assert.equal(
    readFileSync(join(dir, 'fit-mlp', 'results.jsonl'), 'utf8')
      .trim()
      .split('\n').length,
    1,
  );
});

test('several --model: one store per model, and fit compares them', async () => {
  const out = join(dir, 'models');
  const collected = await cli([
    'probe',
    'collect',
    '--model',
    MODEL,
    '--model',
    MODEL,
    '--tokenizer',
    TOKENIZER,
    '--data',
    join(dir, 'prompts.jsonl'),
    '--attributes',
    'paragraph',
    '--out',
    out,
    '--max-new-tokens',
    '4',
    '--layers',
    '2,5',
  ]);
  assert.equal(collected.code, 0, collected.stderr);
  assert.ok(existsSync(join(out, 'stories260K', 'meta.json')) && existsSync(join(out, 'stories260K-2', 'meta.json')));
  const fitted = await cli([
    'probe',
    'fit',
    '--in',
    out,
    '--probe',
    'linear',
    '--seeds',
    '1',
    '--controls',
    'none',
    '--out',
    join(dir, 'models-fit'),
  ]);
  assert.equal(fitted.code, 0, fitted.stderr);
  const summary: Summary = JSON.parse(readFileSync(join(dir, 'models-fit', 'summary.json'), 'utf8'));
  const perModel = summary.plots.find((p) => p.title === 'Per model: best-layer test score');
  assert.deepEqual(
    perModel?.series[0].points.map((p) => p[0]),
    ['stories260K', 'stories260K-2'],
  );
  assert.equal(
    perModel?.series[0].points[0][1],
    perModel?.series[0].points[1][1],
    'the same model gives the same score',
  );
});

test('bad flags and inputs give one clear line and a non-zero exit', async () => {
  const cases: [string[], RegExp][] = [
    [
      ['probe', 'fit', '--in', join(dir, 'missing'), '--probe', 'linear', '--out', join(dir, 'x')],
      /missing, field "--in": folder not found/,
    ],
    [
      ['probe', 'fit', '--in', dir, '--probe', 'forest', '--out', join(dir, 'x')],
      /--probe expects a comma-separated list of linear, mlp, got "forest"/,
    ],
    [
      ['probe', 'fit', '--in', dir, '--probe', 'linear', '--out', join(dir, 'x'), '--controls', 'magic'],
      /--controls expects a comma-separated list of shuffled, random-init, surface, timeline, none, got "magic"/,
    ],
    [['probe', 'collect', '--data', 'x.jsonl', '--out', join(dir, 'y')], /missing required flag --model/],
    [
      [
        'probe',
        'collect',
        '--model',
        MODEL,
        '--data',
        join(dir, 'nope.jsonl'),
        '--attributes',
        'length',
        '--out',
        join(dir, 'y'),
      ],
      /nope\.jsonl: file not found/,
    ],
    [['probe', 'train'], /alignkit probe: unknown command "train"/],
  ];
  for (const [args, pattern] of cases) {
    const r = await cli(args);
    assert.equal(r.code, 1, args.join(' '));
    assert.match(r.stderr, pattern);
  }
  const r = await cli([
    'probe',
    'collect',
    '--model',
    MODEL,
    '--tokenizer',
    TOKENIZER,
    '--data',
    join(dir, 'prompts.jsonl'),
    '--attributes',
    'length,colour',
    '--out',
    join(dir, 'y'),
  ]);
  assert.match(r.stderr, /unknown attribute "colour"/);
});

test('the alignkit binary runs probe --help and probe collect -h', async () => {
  const group = await run(process.execPath, [...ALIGNKIT, 'probe', '--help']);
  assert.match(group.stdout, /collect .*\n.*fit /);
  const collect = await run(process.execPath, [...ALIGNKIT, 'probe', 'collect', '-h']);
  assert.match(collect.stdout, /--prompt-words N/);
  assert.match(collect.stdout, /alignkit probe collect --model /);
});
