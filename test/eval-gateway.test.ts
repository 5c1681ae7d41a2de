/**
 * End to end through the real gateway on loopback: `alignkit eval mt-bench-101` on dialogues
 * of the real MT-Bench-101 file, with stories260K (native, served) as the evaluated model and a
 * deterministic judge served beside it. The run is killed midway and resumed, and in a second
 * run the endpoint goes down midway: the run stops with a one-line error and resumes later.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startGateway, type Gateway } from '../src/serve/http-server.ts';
import { serveModel } from '../src/serve/served-model.ts';
import { judgedTurns, loadMtBench101 } from '../src/eval/mt-bench-101/data.ts';
import { aggregateMtBench } from '../src/eval/mt-bench-101/score.ts';
import { loadStories } from './helpers/serve-fixtures.ts';
import { SHARED, ScriptedModel, tempDir } from './helpers/eval-fixtures.ts';
import { ALIGNKIT } from './helpers/alignkit-cli.ts';

const MT = SHARED('mt-bench-101', 'mtbench101.jsonl');
const NEW_TOKENS = 12;

/** The judge rates the prediction (the text after the last "Assistant: " of the dialogue block) by its length. */
const ratingFor = (prediction: string) => 1 + (prediction.length % 10);
const HEADER = 'The dialogue to be judged is:\n***\n';
const makeJudge = () =>
  new ScriptedModel(
    'judge',
    (prompt) => {
      if (!prompt.includes(HEADER)) return 'ok'; // the client's capability probes
      const block = prompt.split(HEADER)[1].split('\n***')[0];
      return `Judged. Rating: [[${ratingFor(block.slice(block.lastIndexOf('Assistant: ') + 'Assistant: '.length))}]]`;
    },
    { async: true },
  );

interface Child {
  proc: ChildProcess;
  out: string[];
  err: string[];
  exit: Promise<number | null>;
}
function alignkit(args: string[]): Child {
  const proc = spawn(process.execPath, [...ALIGNKIT, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const out: string[] = [];
  const err: string[] = [];
  proc.stdout!.on('data', (d) => out.push(String(d)));
  proc.stderr!.on('data', (d) => err.push(String(d)));
  return { proc, out, err, exit: new Promise((resolve) => proc.on('exit', (code) => resolve(code))) };
}

const lines = (file: string) =>
  existsSync(file)
    ? readFileSync(file, 'utf8')
        .split('\n')
        .filter((l) => l.trim())
    : [];
async function waitForResults(file: string, n: number, child: Child): Promise<void> {
  for (let i = 0; i < 3000 && lines(file).length < n; i++) {
    if (child.proc.exitCode !== null) throw new Error(`run ended early: ${child.err.join('')}`);
    await sleep(10);
  }
}

test(
  'eval mt-bench-101 through the gateway: killed midway and resumed, endpoint down and resumed',
  { timeout: 240_000 },
  async (t) => {
    const dir = tempDir(t);
    const stories = await loadStories();
    const judge = makeJudge();
    const serve = (port: number) =>
      startGateway({ models: [serveModel('stories', stories), serveModel('judge', judge)], port });
    let gateway: Gateway = await serve(0);
    t.after(async () => {
      await gateway.shutdown(100);
      await stories.dispose();
    });

    // dialogues of the real file whose every judged prompt fits stories260K's 512-token context
    const fits = (d: ReturnType<typeof loadMtBench101>[number]) =>
      judgedTurns(d).every(
        (turn) =>
          stories.tokenizer.encode(stories.tokenizer.applyChatTemplate(turn.messages, { addGenerationPrompt: true }))
            .length +
            NEW_TOKENS <=
          stories.capabilities.maxContext,
      );
    const picked = new Map<string, unknown>();
    const chosen = loadMtBench101(MT).filter(
      (d) => picked.size < 13 && !picked.has(d.task) && fits(d) && picked.set(d.task, d),
    );
    const data = join(dir, 'mt-fitting.jsonl');
    writeFileSync(data, chosen.map((d) => JSON.stringify(d)).join('\n') + '\n');
    const turns = chosen.flatMap(judgedTurns).length;
    assert.ok(chosen.length >= 5 && turns >= 10, `enough short dialogues (${chosen.length} dialogues, ${turns} turns)`);

    const args = (out: string) => [
      'eval',
      'mt-bench-101',
      '--model',
      `${gateway.url}/v1#stories`,
      '--judge',
      `${gateway.url}/v1#judge`,
      '--data',
      data,
      '--out',
      out,
      '--limit',
      '1',
      '--concurrency',
      '2',
      '--max-new-tokens',
      String(NEW_TOKENS),
      '--cache-dir',
      join(dir, 'cache'),
    ];

    // 1. killed midway, then resumed
    const out1 = join(dir, 'run1');
    const first = alignkit(args(out1));
    await waitForResults(join(out1, 'results.jsonl'), 4, first);
    first.proc.kill('SIGKILL');
    await first.exit;
    const judgements = () => judge.prompts.filter((p) => p.includes(HEADER));
    const callsAtKill = judgements().length;
    const cachedAtKill = new Set(
      readdirSync(join(dir, 'cache')).flatMap((sub) =>
        readdirSync(join(dir, 'cache', sub)).map(
          (f) => JSON.parse(readFileSync(join(dir, 'cache', sub, f), 'utf8')).prompt,
        ),
      ),
    );
    assert.ok(lines(join(out1, 'results.jsonl')).length < turns, 'killed before the end');
    const resumed = alignkit([...args(out1), '--resume']);
    assert.equal(await resumed.exit, 0, resumed.err.join(''));
    const results = lines(join(out1, 'results.jsonl')).map((l) => JSON.parse(l));
    assert.equal(results.length, turns);
    assert.equal(new Set(results.map((r) => r.key)).size, turns, 'no judgement recorded twice');
    assert.ok(
      judgements()
        .slice(callsAtKill)
        .every((p) => !cachedAtKill.has(p)),
      'no finished judgement asked again',
    );
    assert.ok(
      judgements().length <= turns + 2,
      `at most the 2 in flight at the kill are asked again (${judgements().length} judgements for ${turns} turns)`,
    );
    const responses = new Map(
      lines(join(out1, 'responses.jsonl')).map((l) => {
        const r = JSON.parse(l);
        return [r.key, r.response as string];
      }),
    );
    for (const r of results)
      assert.equal(r.rating, ratingFor(responses.get(r.key)!), `the judge rated the model's own reply for ${r.key}`);
    const summary = JSON.parse(readFileSync(join(out1, 'summary.json'), 'utf8'));
    const expected = aggregateMtBench(results);
    assert.equal(summary.metrics.overall, expected.overall, 'summary.json keeps full precision');
    assert.equal(summary.metrics.judged_turns, turns);
    assert.ok(resumed.out.join('').includes('Per task (dialogue = min over judged turns'));
    assert.ok(existsSync(join(out1, 'report.html')));

    // 2. the endpoint goes down midway: the run stops with one line; it resumes once the server is back
    const out2 = join(dir, 'run2');
    const second = alignkit(args(out2).map((a) => (a === join(dir, 'cache') ? join(dir, 'cache2') : a)));
    await waitForResults(join(out2, 'results.jsonl'), 3, second);
    const port = gateway.port;
    await gateway.shutdown(0);
    assert.equal(await second.exit, 1);
    const message = second.err
      .join('')
      .trim()
      .split('\n')
      .filter((l) => l.startsWith('alignkit eval mt-bench-101:'));
    assert.equal(message.length, 1, second.err.join(''));
    const before = lines(join(out2, 'results.jsonl')).length;
    assert.ok(before < turns);
    gateway = await serve(port);
    const back = alignkit([...args(out2).map((a) => (a === join(dir, 'cache') ? join(dir, 'cache2') : a)), '--resume']);
    assert.equal(await back.exit, 0, back.err.join(''));
    const keys = lines(join(out2, 'results.jsonl')).map((l) => JSON.parse(l).key);
    assert.equal(keys.length, turns);
    assert.equal(new Set(keys).size, turns);
  },
);
