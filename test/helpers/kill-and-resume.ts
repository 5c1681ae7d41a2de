/**
 * The project's resume check: a run straight through and the same run killed after step 3 (an
 * `afterStep` that throws), then resumed from its last checkpoint, must end alike.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { defaultOptimizer } from '../../src/train/optimizer.ts';
import { train, type TrainOptions } from '../../src/train/trainer.ts';
import { readJsonl } from '../../src/util/jsonl.ts';

/** Five steps of batch 3 × accumulation 2 with a checkpoint every 2 steps: a kill after step 3 loses one. */
export const checkpointedRun = {
  optimizer: defaultOptimizer('adamw'),
  schedule: 'cosine' as const,
  warmup: 1,
  maxGradNorm: 1,
  batchSize: 3,
  gradAccum: 2,
  steps: 5,
  seed: 7,
  saveEvery: 2,
  evalEvery: 0,
};

/**
 * Trains `options(straight)` through, then `options(killed)` killed after step 3 and resumed (a
 * rerun without resume is refused); checks that the killed run wrote no final weights and resumed
 * from checkpoint 2, and that metrics.jsonl ends with steps 1–5 once each, the losses of the run
 * never stopped.
 */
export async function trainKilledAndResumed<Item>(
  options: (outDir: string) => TrainOptions<Item>,
  straight: string,
  killed: string,
): Promise<void> {
  await train(options(straight));
  await assert.rejects(
    train({
      ...options(killed),
      afterStep: (step) => {
        if (step === 3) throw new Error('killed');
      },
    }),
    /killed/,
  );
  assert.ok(existsSync(join(killed, 'checkpoint-2')), 'the kill keeps checkpoint 2');
  assert.ok(!existsSync(join(killed, 'model')) && !existsSync(join(killed, 'adapter')), 'no final weights');
  await assert.rejects(train(options(killed)), /already holds a training run; pass --resume/);
  const resumed = await train({ ...options(killed), resume: true });
  assert.equal(resumed.resumedFrom, 2);
  const stepsAndLosses = (out: string) =>
    readJsonl<{ step: number; split: string; loss: number }>(join(out, 'metrics.jsonl'))
      .map((r) => r.value)
      .filter((r) => r.split === 'train')
      .map((r) => [r.step, r.loss]);
  assert.deepEqual(stepsAndLosses(killed), stepsAndLosses(straight), 'the lost step 3 written once, alike');
  assert.deepEqual(
    stepsAndLosses(killed).map(([step]) => step),
    [1, 2, 3, 4, 5],
  );
}
