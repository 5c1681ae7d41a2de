import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { selectPair } from '../src/train/pair-selection.ts';
import { iterationPrompts, selectPairs } from '../src/train/ilr-dpo-loop.ts';
import { writeTrlPreferences } from '../src/train/trl-export.ts';
import { paretoFront, weightOrder } from '../src/train/pareto-front.ts';
import { loadPreferenceData } from '../src/train/data/load-preferences.ts';
import type { Tokenizer } from '../src/tokenizers/tokenizer.ts';

const r = (text: string, reward: number, length: number) => ({ text, reward, length });

test('pair selection: best vs worst by reward, optional length penalty, skips identical, tied and blank', () => {
  assert.deepEqual(selectPair([r('a', 0.1, 5), r('b', 0.9, 30), r('c', -0.5, 8)]), {
    chosen: 1,
    rejected: 2,
    chosenScore: 0.9,
    rejectedScore: -0.5,
  });
  // with λ = 0.05 the long response loses its lead: 0.9 − 1.5 < 0.1 − 0.25 (and c stays worst: −0.5 − 0.4)
  const penalized = selectPair([r('a', 0.1, 5), r('b', 0.9, 30), r('c', -0.5, 8)], 0.05);
  assert.ok('chosen' in penalized && penalized.chosen === 0 && penalized.rejected === 2);
  const penalizedMore = selectPair([r('a', 0.1, 5), r('b', 0.9, 30), r('c', -0.5, 8)], 0.1);
  assert.ok('chosen' in penalizedMore && penalizedMore.chosen === 0 && penalizedMore.rejected === 1);
  assert.deepEqual(selectPair([r('same', 1, 3), r('same', 1, 3), r('same', 1, 3)]), { skip: 'identical' });
  assert.deepEqual(selectPair([r('x', 0.5, 3), r('y', 0.5, 4)]), { skip: 'tied' });
  assert.deepEqual(selectPair([r('x', 0.5, 3)]), { skip: 'too-few' });
  assert.deepEqual(selectPair([r('  ', 0.9, 0), r('x', 0.5, 3)]), { skip: 'too-few' });
  assert.deepEqual(selectPair([r('', 0.9, 0), r('x', 0.5, 3), r('y', 0.1, 2)]), {
    chosen: 1,
    rejected: 2,
    chosenScore: 0.5,
    rejectedScore: 0.1,
  });
  // ties between candidates go to the earliest response
  assert.deepEqual(selectPair([r('a', 1, 1), r('b', 1, 1), r('c', 0, 1), r('d', 0, 1)]), {
    chosen: 0,
    rejected: 2,
    chosenScore: 1,
    rejectedScore: 0,
  });
});

test('selected pairs are TRL JSONL that the trainer reads back as the same pairs', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'alignkit-ilr-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const samples = [
    {
      index: 0,
      prompt: 'Once upon a time',
      rendered: 'Story: Once upon a time',
      samples: [
        { text: ' a happy cat.', finishReason: 'eos' as const, length: 4, scores: [] },
        { text: ' a sad dog.', finishReason: 'eos' as const, length: 4, scores: [] },
      ],
    },
    {
      index: 1,
      prompt: 'Lily',
      rendered: 'Story: Lily',
      samples: [
        { text: ' ran.', finishReason: 'eos' as const, length: 2, scores: [] },
        { text: ' ran.', finishReason: 'eos' as const, length: 2, scores: [] },
      ],
    },
    {
      index: 2,
      prompt: 'Tom',
      rendered: 'Story: Tom',
      samples: [
        { text: ' smiled and played all day long.', finishReason: 'length' as const, length: 8, scores: [] },
        { text: ' cried.', finishReason: 'eos' as const, length: 2, scores: [] },
      ],
    },
  ];
  const scores = [{ rewards: [0.8, -0.6] }, { rewards: [0.1, 0.1] }, { rewards: [0.5, -0.4] }];
  const { rows, stats } = selectPairs(samples, scores, 0);
  assert.equal(stats.pairs, 2);
  assert.deepEqual(stats.skipped, { identical: 1, tied: 0, 'too-few': 0 });
  assert.equal(stats.meanChosenLength, 6);
  assert.equal(stats.meanRejectedLength, 3);
  const file = join(dir, 'preferences.jsonl');
  writeTrlPreferences(file, rows);
  const lines = readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  // the prompt as the policy saw it (template applied): what it was trained to continue
  assert.deepEqual(lines[0], {
    prompt: 'Story: Once upon a time',
    chosen: ' a happy cat.',
    rejected: ' a sad dog.',
    score_chosen: 0.8,
    score_rejected: -0.6,
    length_chosen: 4,
    length_rejected: 4,
  });
  // alignkit's own reader (TRL format) sees prompt/chosen/rejected and ignores the extra columns
  const chars: Tokenizer = {
    vocabSize: 260,
    bosId: 256,
    eosId: 257,
    padId: 258,
    hasChatTemplate: false,
    encode: (text, o) => [...(o?.addBos === false ? [] : [256]), ...Buffer.from(text)],
    decode: (ids) => Buffer.from(ids.filter((i) => i < 256)).toString(),
    applyChatTemplate: () => {
      throw new Error('none');
    },
  };
  const { pairs } = loadPreferenceData(file, chars, { maxLength: 256 });
  assert.deepEqual(
    pairs.map((p) => p.text),
    [
      { prompt: 'Story: Once upon a time', chosen: ' a happy cat.', rejected: ' a sad dog.' },
      { prompt: 'Story: Tom', chosen: ' smiled and played all day long.', rejected: ' cried.' },
    ],
  );
});

test('iteration prompts: all of them, or a fresh slice per iteration that cycles', () => {
  const prompts = ['a', 'b', 'c', 'd', 'e'];
  assert.deepEqual(iterationPrompts({ prompts }, 3), prompts);
  assert.deepEqual(iterationPrompts({ prompts, promptsPerIteration: 2 }, 1), ['a', 'b']);
  assert.deepEqual(iterationPrompts({ prompts, promptsPerIteration: 2 }, 3), ['e', 'a']);
});

test('Pareto front and weight order', () => {
  assert.deepEqual(
    paretoFront([
      [1, 5],
      [2, 4],
      [1.5, 3],
      [3, 1],
      [3, 1],
    ]),
    [true, true, false, true, true],
  );
  assert.deepEqual(paretoFront([[0, 0]]), [true]);
  assert.equal(weightOrder([0.1, 0.5, 0.9], [1, 2, 3]), 1);
  assert.equal(weightOrder([0.1, 0.5, 0.9], [3, 2, 1]), -1);
  assert.ok(Math.abs(weightOrder([0.1, 0.5, 0.9], [1, 3, 2]) - 1 / 3) < 1e-12);
});
