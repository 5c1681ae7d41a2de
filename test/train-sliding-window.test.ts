import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NativeModel } from '../src/lm/native/native-model.ts';
import { computeSequenceLogps } from '../src/train/reference-logps.ts';
import { createRng } from '../src/util/random.ts';
import { writeRandomLlama } from './helpers/random-models.ts';
import { idTokenizer } from './helpers/id-tokenizer.ts';

test("Mistral's sliding window: training graphs score sequences as the inference engine does", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'alignkit-window-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const { config, weights } = writeRandomLlama(join(dir, 'mistral'), {
    family: 'mistral',
    vocabSize: 128,
    hiddenSize: 32,
    numHeads: 4,
    numKvHeads: 2,
    numLayers: 2,
    maxPositions: 64,
    seed: 8,
    slidingWindow: 4,
    std: 0.3,
  });
  const model = await NativeModel.create('mistral', config, weights, idTokenizer(128));
  t.after(() => model.dispose());
  const rng = createRng(2);
  const ids = (n: number) => Array.from({ length: n }, () => 1 + rng.int(127));
  const pair = { promptIds: ids(6), chosenIds: ids(14), rejectedIds: ids(9), file: 'test', line: 1, truncated: false };
  const trained = await computeSequenceLogps(config, weights, [pair]);
  const [chosen, rejected] = await model.score([
    { prefix: pair.promptIds, continuation: pair.chosenIds },
    { prefix: pair.promptIds, continuation: pair.rejectedIds },
  ]);
  assert.ok(Math.abs(trained.chosen[0] - chosen.total) < 1e-3, `chosen: ${trained.chosen[0]} vs ${chosen.total}`);
  assert.ok(
    Math.abs(trained.rejected[0] - rejected.total) < 1e-3,
    `rejected: ${trained.rejected[0]} vs ${rejected.total}`,
  );
  // and the window matters at this length: the same weights without it score differently
  const unwindowed = await computeSequenceLogps({ ...config, slidingWindow: null }, weights, [pair]);
  assert.ok(Math.abs(unwindowed.chosen[0] - chosen.total) > 1e-2, 'the window changes the scores');
});
