/**
 * The iLR-DPO paper's finding on stories260K (ALIGNKIT_LONG_TESTS=1, about 4 minutes on 2
 * cores): iterative DPO on a sentiment reward raises the reward and the response length
 * together (VADER's compound score grows with the number of positive words, so the longer
 * sample tends to win); with the length margin α > 0 the reward still rises while the mean
 * length stays flat. α is per setup (the notes: choose it so the length stays flat); measured on
 * this setup: α = 0.02 → +16%, 0.03 → +16%, 0.05 → +12%, 0.07 → +3%, 0.1 → −24% over three
 * iterations, against +26% for α = 0.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { longTests } from './helpers/stories-data.ts';
import { storyPrompts, trainEosModel } from './helpers/preference-fixtures.ts';
import { run as cli } from '../src/cli/main.ts';

const train = (argv: readonly string[]) => cli(['train', ...argv]);

const skip = !longTests && 'set ALIGNKIT_LONG_TESTS=1 (about 4 minutes)';

/** How far the mean length may move over the iterations with α > 0 (relative to π_0). */
export const LENGTH_BOUND = 0.08;

test(
  'iLR-DPO: reward rises with length flat for α > 0; with α = 0 length grows',
  { skip, timeout: 30 * 60_000 },
  async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'alignkit-ilr-long-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const sft = await trainEosModel(dir);
    const prompts = join(dir, 'prompts.txt');
    const evalPrompts = join(dir, 'eval.txt');
    writeFileSync(prompts, storyPrompts(64).join('\n') + '\n');
    writeFileSync(evalPrompts, storyPrompts(32, 400).join('\n') + '\n');
    const loop = async (alpha: number) => {
      const out = join(dir, `alpha-${alpha}`);
      const code = await train([
        'ilr-dpo',
        '--model',
        sft,
        '--prompts',
        prompts,
        '--eval-prompts',
        evalPrompts,
        '--reward',
        'sentiment',
        '--iterations',
        '3',
        '--samples-per-prompt',
        '4',
        '--max-new-tokens',
        '96',
        '--length-alpha',
        String(alpha),
        '--lr',
        '1e-4',
        '--epochs',
        '2',
        '--batch-size',
        '8',
        '--out',
        out,
        '--quiet',
      ]);
      assert.equal(code, 0);
      return readFileSync(join(out, 'results.jsonl'), 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { iteration: number; reward: number; length: number });
    };
    const plain = await loop(0);
    const regularized = await loop(0.07);
    const show = (name: string, r: typeof plain) =>
      t.diagnostic(
        `${name}: ${r.map((x) => `π_${x.iteration} reward ${x.reward.toFixed(3)} length ${x.length.toFixed(1)}`).join('; ')}`,
      );
    show('α = 0', plain);
    show('α = 0.07', regularized);
    const [p0, p3, r0, r3] = [plain[0], plain[3], regularized[0], regularized[3]];
    assert.ok(p3.reward > p0.reward + 0.1, 'iterative DPO raises the reward');
    assert.ok(p3.length > 1.1 * p0.length, 'and the length with it (the verbosity the paper targets)');
    assert.ok(r3.reward > r0.reward + 0.1, 'iLR-DPO raises the reward too');
    assert.ok(
      Math.abs(r3.length / r0.length - 1) <= LENGTH_BOUND,
      `while the length stays within ±${100 * LENGTH_BOUND}% (${r0.length.toFixed(1)} → ${r3.length.toFixed(1)})`,
    );
    assert.ok(r3.length < p3.length);
  },
);
