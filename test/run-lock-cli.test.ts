/**
 * Two runs started together into one folder, through the real binary: exactly one runs, the other
 * exits non-zero naming the lock's owner; after `kill -9` of the owner, `--resume` takes the stale
 * lock over (with a warning) and finishes the run. For `train sft` and `steer`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { STORIES, STORIES_TOKENIZER } from './helpers/model-wrappers.ts';
import { tinyStories, writeJsonl } from './helpers/stories-data.ts';
import { ALIGNKIT } from './helpers/alignkit-cli.ts';

interface Running {
  child: ChildProcess;
  exit: Promise<{ code: number | null; signal: string | null; stderr: string }>;
}

function start(args: readonly string[]): Running {
  const child = spawn(process.execPath, [...ALIGNKIT, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  const exit = new Promise<{ code: number | null; signal: string | null; stderr: string }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal, stderr })),
  );
  return { child, exit };
}

async function until(condition: () => boolean, what: string, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Starts two identical runs, checks that the one that lost names the other's pid, kills the winner
 * with SIGKILL once `started` holds, and returns it (its lock is left behind).
 */
async function raceAndKill(args: readonly string[], out: string, started: () => boolean): Promise<Running> {
  const runs = [start(args), start(args)];
  const loser = await Promise.race(runs.map((r, i) => r.exit.then((e) => ({ ...e, i }))));
  const winner = runs[1 - loser.i];
  assert.notEqual(loser.code, 0, 'the second run is refused');
  assert.match(
    loser.stderr.trim().split('\n').at(-1)!,
    new RegExp(
      `^alignkit [a-z ]+: ${out.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is in use by another run \\(pid ${winner.child.pid}, `,
    ),
  );
  assert.equal(winner.child.exitCode, null, 'the winner is still running');
  await until(started, 'the run to start writing');
  winner.child.kill('SIGKILL');
  assert.equal((await winner.exit).signal, 'SIGKILL');
  assert.ok(existsSync(join(out, 'run.lock')), 'a killed run leaves its lock');
  return winner;
}

/** The records of a JSONL file; a last line torn by the kill is left out. */
function lines(file: string): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (const line of readFileSync(file, 'utf8').split('\n').filter(Boolean)) {
    try {
      out.push(JSON.parse(line));
    } catch {
      break;
    }
  }
  return out;
}

test('train sft: two runs into one folder — one trains, one is refused; kill -9, then --resume takes the stale lock', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'alignkit-lock-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const data = writeJsonl(
    join(dir, 'sft.jsonl'),
    tinyStories()
      .slice(0, 48)
      .map((text) => ({ text: text.slice(0, 160) })),
  );
  const out = join(dir, 'run');
  const args = ['train', 'sft', '--model', STORIES, '--tokenizer', STORIES_TOKENIZER, '--data', data, '--out', out];
  const training = [...args, '--steps', '24', '--batch-size', '4', '--max-length', '64', '--save-every', '2'];
  const killed = await raceAndKill(training, out, () => existsSync(join(out, 'checkpoint-2')));

  const resumed = await start([...training, '--resume']).exit;
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.match(
    resumed.stderr,
    new RegExp(`warning: .*taking over the lock of a run that is no longer running \\(pid ${killed.child.pid}`),
  );
  const steps = lines(join(out, 'metrics.jsonl'))
    .filter((r) => r.split === 'train')
    .map((r) => r.step);
  assert.deepEqual(
    steps,
    Array.from({ length: 24 }, (_, i) => i + 1),
    'every step once, in order',
  );
  assert.ok(existsSync(join(out, 'model', 'model.safetensors')) && existsSync(join(out, 'report.html')));
  assert.ok(!existsSync(join(out, 'run.lock')), 'released at the end');
});

test('steer: two runs into one folder — one steers, one is refused; kill -9, then --resume takes the stale lock', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'alignkit-lock-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const prompts = writeJsonl(
    join(dir, 'prompts.jsonl'),
    tinyStories()
      .slice(0, 60)
      .map((s) => ({ prompt: s.split(' ').slice(0, 8).join(' ') })),
  );
  const out = join(dir, 'run');
  const args = [
    'steer',
    'compare',
    '--compare',
    'sample,w2s',
    '--large',
    STORIES,
    '--tuned',
    STORIES,
    '--untuned',
    STORIES,
  ];
  const steering = [
    ...args,
    '--tokenizer',
    STORIES_TOKENIZER,
    '--prompts',
    prompts,
    '--out',
    out,
    '--max-new-tokens',
    '32',
  ];
  const search = ['--w', '2', '--k', '2', '--l', '8', '--reward', 'vader'];
  const results = join(out, 'results.jsonl');
  const killed = await raceAndKill(
    [...steering, ...search],
    out,
    () => existsSync(results) && lines(results).length >= 2,
  );
  const before = lines(results).length;

  // --limit does not change what a run computes: the resumed run finishes the first prompts only
  const resumed = await start([...steering, ...search, '--resume', '--limit', String(Math.ceil(before / 2) + 1)]).exit;
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.match(
    resumed.stderr,
    new RegExp(`taking over the lock of a run that is no longer running \\(pid ${killed.child.pid}`),
  );
  const records = lines(results);
  assert.equal(new Set(records.map((r) => r.key)).size, records.length, 'no record twice');
  assert.ok(records.length >= (Math.ceil(before / 2) + 1) * 2);
  const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
  assert.deepEqual(
    summary.tables[0].rows.map((r: unknown[]) => r[0]),
    ['sample', 'w2s'],
  );
  assert.ok(!existsSync(join(out, 'run.lock')));
});
