/**
 * The end-to-end check of emergent response planning on a real model: stories260K continues
 * the last 40 words of TinyStories paragraphs (greedy), and probes on the last prompt token
 * predict how long the continuation will be. They must beat the controls — the same probes on
 * a randomly initialised twin, on prompt-only surface features, and with shuffled labels.
 *
 * The default run (300 prompts, ≤200 tokens) takes about a minute; ALIGNKIT_SLOW_TESTS=1 runs
 * the full measurement reported in the README (all 1,273 paragraphs, ≤400 tokens, ~4 minutes).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadModel } from '../src/lm/load.ts';
import { loadRandomInitTwin } from '../src/lm/load.ts';
import { collectRepresentations } from '../src/probe/collect.ts';
import { readPromptItems } from '../src/probe/prompt-data.ts';
import { responseLength } from '../src/probe/structural-attributes.ts';
import { RepresentationStore } from '../src/probe/representation-store.ts';
import { runSweep, type SweepRow } from '../src/probe/probe-sweep.ts';
import { bestByValidation } from '../src/probe/probe-summary.ts';

const MODEL = 'data/stories260K/stories260K.bin';
const TOKENIZER = 'data/stories260K/tok512.bin';
const STORIES = 'data/tinystories-sample/tinystories.txt';
const full = process.env.ALIGNKIT_SLOW_TESTS === '1';

test(
  `stories260K: length probes from the prompt beat the random-init, surface-feature and shuffled-label controls (${full ? 'full' : 'quick'} run)`,
  { timeout: 15 * 60_000 },
  async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'probe-stories-'));
    const model = await loadModel(MODEL, { tokenizer: TOKENIZER });
    const twin = await loadRandomInitTwin(MODEL, TOKENIZER, 0);
    try {
      const items = readPromptItems(STORIES, { words: -40, limit: full ? undefined : 300 });
      const collected = await collectRepresentations({
        model,
        randomInitModel: twin,
        items,
        attributes: [responseLength],
        out: dir,
        maxNewTokens: full ? 400 : 200,
        batchSize: 16,
      });
      const store = RepresentationStore.open(dir);
      const { rows } = runSweep({ stores: [{ name: 'stories260K', store }], probes: ['linear'], seeds: 5 });
      const best = (representation: string, control: SweepRow['control'] = 'none') =>
        bestByValidation(rows.filter((r) => r.representation === representation && r.control === control))!;
      const model_ = best('prompt'),
        random = best('random-init'),
        surface = best('surface'),
        shuffled = best('prompt', 'shuffled-labels');
      const line = (name: string, r: SweepRow) =>
        `${name.padEnd(18)} layer ${String(r.layer ?? '-').padEnd(2)} Spearman ${r.test.spearman.mean.toFixed(3)} ± ${r.test.spearman.sd.toFixed(3)}`;
      t.diagnostic(
        `${collected.items} prompts, ${collected.generatedTokens} tokens generated at ${collected.itemsPerSecond.toFixed(2)} items/s`,
      );
      for (const [name, r] of [
        ['model states', model_],
        ['random-init model', random],
        ['surface features', surface],
        ['shuffled labels', shuffled],
      ] as const)
        t.diagnostic(line(name, r));

      assert.ok(model_.test.spearman.mean > random.test.spearman.mean + 0.1, 'beats the random-init twin');
      assert.ok(model_.test.spearman.mean > surface.test.spearman.mean, 'beats prompt-only surface features');
      assert.ok(model_.test.spearman.mean > shuffled.test.spearman.mean + 0.2, 'beats shuffled labels');
      assert.ok(Math.abs(shuffled.test.spearman.mean) < 0.1, 'shuffled labels are at chance');
    } finally {
      await model.dispose();
      await twin.dispose();
      rmSync(dir, { recursive: true, force: true });
    }
  },
);
