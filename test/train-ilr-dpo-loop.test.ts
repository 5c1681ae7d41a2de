import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runIlrDpo, type IlrDpoOptions, type IlrProgress, type IterationRecord } from '../src/train/ilr-dpo-loop.ts';
import { openReward } from '../src/train/reward-spec.ts';
import { readJsonl } from '../src/util/jsonl.ts';
import { AlignkitError } from '../src/errors.ts';
import { STORIES } from './helpers/model-wrappers.ts';

import { loopParts, storyPrompts, writePerturbedStories } from './helpers/preference-fixtures.ts';

const trainFlags = { steps: '2', 'batch-size': '2', lr: '1e-3', 'save-every': '1', 'max-length': '128' };

function tempDir(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'alignkit-ilr-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

class Killed extends Error {}

/** Runs the loop on stories260K; `killAt` throws (a simulated kill) the first time progress reaches each point. */
async function runLoop(
  out: string,
  resume: boolean,
  overrides: Partial<IlrDpoOptions> = {},
  killAt: Set<string> = new Set(),
) {
  return (await runLoopResult(out, resume, overrides, killAt)).records;
}

async function runLoopResult(
  out: string,
  resume: boolean,
  overrides: Partial<IlrDpoOptions> = {},
  killAt: Set<string> = new Set(),
) {
  const parts = loopParts(out, trainFlags);
  try {
    const policy = await parts.pool.load(STORIES);
    const reward = await openReward('sentiment', {
      load: parts.pool.load,
      policyTokenizer: policy.tokenizer,
      beta: 0.1,
    });
    return await runIlrDpo({
      out,
      model: STORIES,
      prompts: storyPrompts(4),
      evalPrompts: storyPrompts(2, 100),
      iterations: 2,
      reward,
      sampling: { samplesPerPrompt: 3, maxNewTokens: 12 },
      evalSamplesPerPrompt: 2,
      beta: 0.1,
      lengthAlpha: 0.01,
      seed: 5,
      resume,
      load: parts.pool.load,
      release: (ref) => (ref === STORIES ? Promise.resolve() : parts.pool.release(ref)),
      train: parts.trainer,
      results: parts.runDir(resume),
      onProgress: (e: IlrProgress) => {
        const point = `${e.iteration}:${e.stage}:${e.done}`;
        if (killAt.delete(point)) throw new Killed(point);
      },
      ...overrides,
    });
  } finally {
    await parts.pool.dispose();
  }
}

const essentials = (records: readonly IterationRecord[]) =>
  records.map((r) => ({
    iteration: r.iteration,
    reward: r.reward,
    length: r.length,
    pairs: r.selection?.pairs,
    loss: r.trainMetrics?.loss,
  }));

test('iLR-DPO loop: killed in every step (sampling, scoring, training, evaluating), it resumes to the same result as an uninterrupted run', async (t) => {
  const dir = tempDir(t);
  const straight = await runLoop(join(dir, 'straight'), false);
  assert.deepEqual(
    straight.map((r) => r.iteration),
    [0, 1, 2],
  );
  assert.ok(
    straight.slice(1).every((r) => r.selection!.pairs > 0 && r.trainMetrics && Number.isFinite(r.trainMetrics.loss)),
  );

  const out = join(dir, 'killed');
  const kills = new Set(['1:sample:2', '1:score:1', '1:train:1', '2:evaluate:1', '2:sample:3']);
  const seen: string[] = [];
  let records: IterationRecord[] | undefined;
  for (let attempt = 0; attempt < 10 && !records; attempt++) {
    try {
      records = await runLoop(out, attempt > 0, {}, kills);
    } catch (e) {
      if (!(e instanceof Killed)) throw e;
      seen.push(e.message);
      const state = JSON.parse(readFileSync(join(out, 'state.json'), 'utf8'));
      const [iteration, stage] = e.message.split(':');
      assert.deepEqual(
        [state.iteration, state.stage],
        [Number(iteration), stage],
        'state.json names the step that was running',
      );
    }
  }
  assert.deepEqual(seen, ['1:sample:2', '1:score:1', '1:train:1', '2:sample:3', '2:evaluate:1']);
  assert.deepEqual(essentials(records!), essentials(straight));
  // each step kept what it had finished: the resumed sampling did not redo prompts
  const samples = readJsonl<{ index: number }>(join(out, 'iter-1', 'samples.jsonl')).map((r) => r.value.index);
  assert.deepEqual(samples, [0, 1, 2, 3]);
  // every iteration's pairs are TRL JSONL, and the trainer's run folder and model are there
  for (const iteration of [1, 2]) {
    const rows = readJsonl<Record<string, unknown>>(join(out, `iter-${iteration}`, 'preferences.jsonl')).map(
      (r) => r.value,
    );
    assert.equal(rows.length, records![iteration].selection!.pairs);
    for (const row of rows) for (const k of ['prompt', 'chosen', 'rejected']) assert.equal(typeof row[k], 'string');
    assert.ok(existsSync(join(out, `iter-${iteration}`, 'train', 'model', 'config.json')));
  }
  assert.equal(records![2].policy, join(out, 'iter-2', 'train', 'model'));
  // a finished run without --resume is refused
  await assert.rejects(runLoop(out, false), /already holds (a|an iLR-DPO) run; pass --resume/);
});

test('iLR-DPO loop: an iteration whose prompts all give identical responses is a clear error, with the selection kept', async (t) => {
  const out = join(tempDir(t), 'greedy');
  await assert.rejects(
    runLoop(out, false, { sampling: { samplesPerPrompt: 3, maxNewTokens: 12, temperature: 0 } }),
    (e: unknown) =>
      e instanceof AlignkitError &&
      e.kind === 'input' &&
      /iteration 1: no usable preference pairs from 4 prompts \(4 gave 3 identical responses, 0 tied rewards\)/.test(
        e.message,
      ),
  );
  const selection = JSON.parse(readFileSync(join(out, 'iter-1', 'selection.json'), 'utf8'));
  assert.deepEqual(selection.skipped, { identical: 4, tied: 0, 'too-few': 0 });
  assert.equal(existsSync(join(out, 'iter-1', 'preferences.jsonl')), false);
  await assert.rejects(
    runLoop(`${out}-one`, false, { sampling: { samplesPerPrompt: 1, maxNewTokens: 12 } }),
    /at least 2 samples per prompt/,
  );
});

test('iLR-DPO loop with an external trainer: it stops before each training step and continues with the model trained elsewhere', async (t) => {
  const dir = tempDir(t);
  const out = join(dir, 'external');
  const first = await runLoopResult(out, false, { train: 'external' });
  assert.deepEqual(
    first.records.map((r) => r.iteration),
    [0],
  );
  assert.deepEqual(first.waiting, { iteration: 1, data: join(out, 'iter-1', 'preferences.jsonl'), policy: STORIES });
  assert.ok(readJsonl(first.waiting!.data).length > 0);
  // resuming without the trained model waits again; with it, the loop evaluates it and samples from it
  assert.equal((await runLoopResult(out, true, { train: 'external' })).waiting?.iteration, 1);
  const trainedElsewhere = writePerturbedStories(dir, 11);
  const second = await runLoopResult(out, true, { train: 'external', iterate: trainedElsewhere });
  assert.deepEqual(
    second.records.map((r) => [r.iteration, r.policy]),
    [
      [0, STORIES],
      [1, trainedElsewhere],
    ],
  );
  assert.deepEqual(second.waiting, {
    iteration: 2,
    data: join(out, 'iter-2', 'preferences.jsonl'),
    policy: trainedElsewhere,
  });
  await assert.rejects(
    runLoopResult(out, true, { iterate: trainedElsewhere }),
    /only taken when the loop waits for an external training step/,
  );
});
