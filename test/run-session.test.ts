/**
 * The run session every run-writing command shares: the folder lock (atomic, live owner refused,
 * a killed owner's lock taken over with a warning), the resume identity, and a failed start that
 * leaves nothing behind.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { LOCK_FILE, RunLock } from '../src/run/run-lock.ts';
import { RunSession } from '../src/run/run-session.ts';
import { progressRenderer } from '../src/run/progress.ts';

function tempDir(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'alignkit-session-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** The pid of a process that has exited (and been reaped): what a `kill -9`'d run leaves in its lock. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '']);
  await new Promise((resolve) => child.on('exit', resolve));
  return child.pid!;
}

test('the lock is exclusive: a live owner is refused by folder and pid, a dead one is taken over with a warning', async (t) => {
  const dir = tempDir(t);
  const first = RunLock.acquire(dir, 'steer', () => assert.fail('no stale lock here'));
  const owner = JSON.parse(readFileSync(join(dir, LOCK_FILE), 'utf8'));
  assert.equal(owner.pid, process.pid);
  assert.equal(owner.host, hostname());
  assert.throws(
    () => RunLock.acquire(dir, 'steer', () => undefined),
    (e: Error) =>
      e.message.includes(dir) && e.message.includes(`pid ${process.pid}`) && /in use by another run/.test(e.message),
  );
  first.release();
  assert.ok(!existsSync(join(dir, LOCK_FILE)), 'released');

  // a lock left by a killed process
  const pid = await deadPid();
  writeFileSync(
    join(dir, LOCK_FILE),
    JSON.stringify({ pid, host: hostname(), processStart: null, command: 'steer', startedAt: '2026-01-01T00:00:00Z' }),
  );
  const warnings: string[] = [];
  const taken = RunLock.acquire(dir, 'steer', (m) => warnings.push(m));
  assert.equal(warnings.length, 1);
  assert.match(warnings[0], new RegExp(`taking over the lock .*pid ${pid}`));
  assert.equal(JSON.parse(readFileSync(join(dir, LOCK_FILE), 'utf8')).pid, process.pid);
  taken.release();

  // a live pid whose process started after the lock was written is a reused pid: stale
  if (existsSync('/proc/self/stat')) {
    writeFileSync(
      join(dir, LOCK_FILE),
      JSON.stringify({ pid: process.pid, host: hostname(), processStart: 1, command: 'x', startedAt: 'then' }),
    );
    const again: string[] = [];
    RunLock.acquire(dir, 'steer', (m) => again.push(m)).release();
    assert.equal(again.length, 1, 'a reused pid does not hold the lock');
  }
});

test('of many processes racing for one folder, exactly one takes the lock', async (t) => {
  const dir = tempDir(t);
  // each racer says whether it won, then waits to be killed: the winner holds the lock while the others try
  const script = `
    import { RunLock } from ${JSON.stringify(new URL('../src/run/run-lock.ts', import.meta.url).href)};
    try { RunLock.acquire(process.argv[1], 'race', () => console.log('stale')); console.log('won'); }
    catch (e) { console.log('lost: ' + e.message); }
    setInterval(() => {}, 1000);`;
  const racers = Array.from({ length: 4 }, () =>
    spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script, dir], {
      stdio: ['ignore', 'pipe', 'inherit'],
    }),
  );
  try {
    const outputs = await Promise.all(
      racers.map(
        (child) =>
          new Promise<string>((resolve) => {
            let text = '';
            child.stdout.on('data', (d) => {
              text += d;
              if (text.includes('\n')) resolve(text.trim());
            });
          }),
      ),
    );
    assert.equal(outputs.filter((o) => o === 'won').length, 1, outputs.join('\n'));
    const winner = racers[outputs.indexOf('won')].pid;
    for (const o of outputs.filter((o) => o !== 'won'))
      assert.match(o, new RegExp(`lost: .*in use by another run \\(pid ${winner}`));
  } finally {
    for (const child of racers) child.kill('SIGKILL');
  }
});

test('a session writes nothing until the run starts; a failed start leaves no folder, a started one a config with its identity', async (t) => {
  const dir = tempDir(t);
  const out = join(dir, 'run');
  const failed = RunSession.open({ out, command: 'steer', identity: { temperature: 0.7 } });
  assert.ok(existsSync(join(out, LOCK_FILE)), 'locked while open');
  await failed.close(); // e.g. a model failed to load
  assert.ok(!existsSync(out), 'no lone folder, no lone config.json');

  const session = RunSession.open({ out, command: 'steer', identity: { temperature: 0.7 } });
  session.start({ prompts: 3 });
  session.folder.append({ key: '0:sample' });
  await session.close();
  const config = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'));
  assert.equal(config.command, 'steer');
  assert.deepEqual(config.identity, { temperature: 0.7 });
  assert.ok(!existsSync(join(out, LOCK_FILE)), 'the lock goes with the session');

  assert.throws(() => RunSession.open({ out, command: 'steer' }), /already holds a run; pass --resume/);
  assert.throws(
    () => RunSession.open({ out, command: 'steer', resume: true, identity: { temperature: 1 } }),
    /--resume with a different --temperature than the run in .* \(0\.7 before, 1 now\)/,
  );
  assert.throws(
    () => RunSession.open({ out, command: 'eval conceptmath', resume: true, identity: { temperature: 0.7 } }),
    /holds a steer run, not eval conceptmath/,
  );
  const resumed = RunSession.open({ out, command: 'steer', resume: true, identity: { temperature: 0.7 } });
  assert.deepEqual(resumed.folder.finished(), [{ key: '0:sample' }]);
  await resumed.close();
  assert.ok(existsSync(join(out, 'config.json')), 'a resumed run keeps its folder even if it stops early');

  // a folder the user made (not empty) is never removed
  const own = join(dir, 'mine');
  mkdirSync(own);
  writeFileSync(join(own, 'notes.txt'), 'x');
  await RunSession.open({ out: own, command: 'steer' }).close();
  assert.ok(existsSync(join(own, 'notes.txt')));
});

test('progress: plain lines per stage and every tenth, with a rate and ETA once known', () => {
  const lines: string[] = [];
  const stream = { write: (s: string) => lines.push(s.trimEnd()), isTTY: false } as unknown as NodeJS.WritableStream;
  const progress = progressRenderer('train sft', { stream });
  for (let i = 0; i <= 100; i++) progress.update({ stage: 'train', done: i, total: 100, note: `loss ${i}` });
  progress.update({ stage: 'evaluate', done: 0, total: 1 });
  assert.equal(lines.length, 12, lines.join('\n')); // 0, 10, …, 100 and the new stage
  assert.match(lines[0], /^train sft train: 0\/100 \(0%\), loss 0$/);
  assert.match(lines[10], /^train sft train: 100\/100 \(100%\)(, [\d.e+]+\/s)?, loss 100$/);
  assert.match(lines[11], /^train sft evaluate: 0\/1/);
});

test('a run that fails to start (a model that does not load) leaves no config.json, no folder: steer, eval, probe', async (t) => {
  const { run } = await import('../src/cli/main.ts');
  const dir = tempDir(t);
  const prompts = join(dir, 'prompts.jsonl');
  writeFileSync(prompts, '{"prompt": "Once upon a time"}\n');
  const math = join(dir, 'math.jsonl');
  writeFileSync(
    math,
    JSON.stringify({ idx: 1, cate0: 'A', cate1: 'B', cate2: 'C', question: '1+1?', answer: '2', grade: 'element_en' }) +
      '\n',
  );
  const missing = join(dir, 'no-such-model.bin');
  const attempts: [string, string[]][] = [
    ['steer', ['steer', 'sample', '--large', missing, '--prompts', prompts]],
    ['eval', ['eval', 'conceptmath', '--model', missing, '--data', math]],
    ['probe', ['probe', 'collect', '--model', missing, '--data', prompts, '--attributes', 'length']],
  ];
  for (const [name, argv] of attempts) {
    const out = join(dir, name);
    await assert.rejects(run([...argv, '--out', out]), /no-such-model\.bin: model not found/, name);
    assert.ok(!existsSync(out), `${name}: nothing written`);
  }
});
