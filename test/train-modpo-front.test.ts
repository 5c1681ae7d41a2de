/**
 * MODPO on stories260K-derived models (ALIGNKIT_LONG_TESTS=1, about 6 minutes on 2 cores):
 * happy sentiment (the trained objective, VADER-labelled pairs of the SFT model's own samples)
 * against brevity (the margin: the implicit reward of a DPO model trained on shortest-vs-longest
 * pairs). As w_k moves from 0.25 to 1 the family must trace an ordered front: sentiment rises
 * and length grows (brevity falls) with w_k. ALIGNKIT_RESULTS_OUT=DIR keeps the sweep's run folder in
 * DIR/modpo-front (the README's table: `npm run readme -- --record modpo-front DIR/modpo-front "…"`).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import type { MemberRecord } from '../src/train/modpo-sweep.ts';

import { longTests } from './helpers/stories-data.ts';
import { sentimentAndBrevityPairs, storyPrompts, trainEosModel } from './helpers/preference-fixtures.ts';
import { run as cli } from '../src/cli/main.ts';

const train = (argv: readonly string[]) => cli(['train', ...argv]);
const sweep = (argv: readonly string[]) => cli(['sweep', ...argv]);

const skip = !longTests && 'set ALIGNKIT_LONG_TESTS=1 (about 6 minutes)';

test(
  'MODPO front on stories260K: sentiment vs brevity is ordered in w_k',
  { skip, timeout: 30 * 60_000 },
  async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'alignkit-modpo-long-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const sft = await trainEosModel(dir);
    const { files, stats } = await sentimentAndBrevityPairs(sft, storyPrompts(256), dir, {
      samples: 4,
      maxNewTokens: 96,
      seed: 1,
    });
    t.diagnostic(
      `sentiment pairs: ${stats.sentiment.pairs} (chosen ${stats.sentiment.meanChosenLength?.toFixed(1)} vs rejected ${stats.sentiment.meanRejectedLength?.toFixed(1)} tokens); brevity pairs: ${stats.brevity.pairs}`,
    );
    const evalPrompts = join(dir, 'eval.txt');
    writeFileSync(evalPrompts, storyPrompts(64, 400).join('\n') + '\n');
    const training = ['--lr', '2e-4', '--epochs', '2', '--batch-size', '8', '--quiet'];
    assert.equal(
      await train(['dpo', '--model', sft, '--data', files.brevity, '--out', join(dir, 'brief'), ...training]),
      0,
    );
    const out = join(dir, 'sweep');
    assert.equal(
      await sweep([
        'modpo',
        '--model',
        sft,
        '--data',
        files.sentiment,
        '--margin-models',
        `dpo:${join(dir, 'brief', 'model')}`,
        '--weights',
        '0:1:0.25',
        '--objectives',
        'sentiment,length',
        '--eval-prompts',
        evalPrompts,
        '--samples-per-prompt',
        '4',
        '--max-new-tokens',
        '96',
        '--out',
        out,
        ...training,
      ]),
      0,
    );

    if (process.env.ALIGNKIT_RESULTS_OUT)
      cpSync(out, join(process.env.ALIGNKIT_RESULTS_OUT, 'modpo-front'), { recursive: true });
    const records = readFileSync(join(out, 'results.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as MemberRecord);
    for (const r of records)
      t.diagnostic(`${r.key}: sentiment ${r.objectives[0].toFixed(3)}, length ${r.meanLength.toFixed(1)} tokens`);
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
    const order = summary.frontOrder as Record<string, number>;
    assert.ok(order['sentiment-vader'] >= 2 / 3, `sentiment rises with w_k (τ = ${order['sentiment-vader']})`);
    assert.ok(order['length (−tokens)'] <= -2 / 3, `brevity falls with w_k (τ = ${order['length (−tokens)']})`);
    const byKey = new Map(records.map((r) => [r.key, r]));
    const [sftRecord, full, quarter] = [byKey.get('sft')!, byKey.get('w=1,0')!, byKey.get('w=0.25,0.75')!];
    const marginModel = records.find((r) => r.kind === 'margin-model')!;
    assert.ok(
      full.objectives[0] > sftRecord.objectives[0] + 0.1,
      'w_k = 1 (plain DPO on the sentiment pairs) is happier than the SFT model',
    );
    assert.ok(quarter.meanLength < 0.6 * full.meanLength, 'w_k = 0.25 is much shorter than w_k = 1');
    assert.ok(
      marginModel.meanLength < sftRecord.meanLength,
      'the brevity model (w_k = 0) is shorter than the SFT model',
    );
  },
);
