import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createOpenAIModel } from '../src/lm/openai/openai-model.ts';
import { loadTokenizer } from '../src/tokenizers/load-tokenizer.ts';
import { STORIES, STORIES_TOKENIZER, postJson } from './helpers/serve-fixtures.ts';
import { ALIGNKIT } from './helpers/alignkit-cli.ts';

/** Starts `alignkit serve` in a child process and waits for its "listening on URL" line. */
async function serve(
  t: { after: (f: () => Promise<void> | void) => void },
  args: string[],
  env: Record<string, string> = {},
): Promise<{ url: string; child: ChildProcess; output: () => string; exited: Promise<number | null> }> {
  const child = spawn(process.execPath, [...ALIGNKIT, 'serve', '--port', '0', ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  t.after(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  const url = await new Promise<string>((resolve, reject) => {
    const check = () => {
      const m = /listening on (http:\/\/\S+)/.exec(output);
      if (m) resolve(m[1]);
    };
    child.stdout!.on('data', check);
    void exited.then((code) => reject(new Error(`serve exited (${code}) before listening:\n${output}`)));
  });
  return { url, child, output: () => output, exited };
}

const serveStories = ['--model', `stories=${STORIES}`, '--tokenizer', STORIES_TOKENIZER];

test("alignkit serve: plain and guided models behind bearer auth; a remote model's tokenizer through /tokenize", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'alignkit-serve-cli-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const guided = join(dir, 'bon.yaml');
  writeFileSync(
    guided,
    `method: bon\nmodels:\n  large: ${resolve(STORIES)}\ntokenizer: ${resolve(STORIES_TOKENIZER)}\nsettings:\n  bonScorer: vader\n  n: 2\n`,
  );
  const { url } = await serve(
    t,
    [...serveStories, '--guided', `happy=${guided}`, '--api-key-env', 'ALIGNKIT_TEST_GATEWAY_KEY'],
    { ALIGNKIT_TEST_GATEWAY_KEY: 'k-123' },
  );
  assert.equal((await postJson(`${url}/tokenize`, { model: 'stories', prompt: 'x' })).status, 401);
  const happy = await postJson(
    `${url}/v1/completions`,
    { model: 'happy', prompt: 'Once upon a time', max_tokens: 8, seed: 1 },
    { authorization: 'Bearer k-123' },
  );
  assert.equal(happy.status, 200);
  assert.equal(typeof happy.body.choices[0].text, 'string');
  process.env.ALIGNKIT_TEST_GATEWAY_KEY = 'k-123';
  t.after(() => void delete process.env.ALIGNKIT_TEST_GATEWAY_KEY);
  const remote = await createOpenAIModel(`${url}/v1#stories`, { apiKeyEnv: 'ALIGNKIT_TEST_GATEWAY_KEY' });
  t.after(() => remote.dispose());
  const local = loadTokenizer(STORIES_TOKENIZER);
  const text = 'Lily saw a big red ball. She was happy!';
  assert.deepEqual(remote.tokenizer.encode(text), local.encode(text));
  assert.deepEqual(remote.tokenizer.encode(text, { addBos: false }), local.encode(text, { addBos: false }));
  assert.equal(remote.tokenizer.decode(local.encode(text)), local.decode(local.encode(text)));
  assert.equal(remote.tokenizer.vocabSize, local.vocabSize);
  assert.equal(remote.tokenizer.eosId, local.eosId);
  assert.equal(remote.tokenizer.hasChatTemplate, true);
  const messages = [{ role: 'user', content: 'Hello' }];
  assert.equal(
    remote.tokenizer.applyChatTemplate(messages, { addGenerationPrompt: true }),
    local.applyChatTemplate(messages, { addGenerationPrompt: true }),
  );
  const [sample] = await remote.sample({ prompt: 'Once upon a time', maxNewTokens: 6, temperature: 0 });
  assert.equal(sample.tokens.length, 6);
});

test('alignkit serve: SIGTERM lets in-flight requests finish, refuses new ones, exits 0', async (t) => {
  const { url, child, output, exited } = await serve(t, serveStories);
  const response = await fetch(`${url}/v1/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      model: 'stories',
      prompt: 'Once',
      max_tokens: 120,
      temperature: 0,
      stream: true,
      stream_options: { include_usage: true },
    }),
  });
  const reader = response.body!.getReader();
  let body = new TextDecoder().decode((await reader.read()).value);
  child.kill('SIGTERM');
  await new Promise((r) => setTimeout(r, 100));
  const refused = await fetch(`${url}/health`).then(
    (r) => r.status,
    () => 'refused',
  );
  assert.ok(refused === 503 || refused === 'refused', `a new request during shutdown got ${refused}`);
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    body += new TextDecoder().decode(value);
  }
  assert.match(body, /"finish_reason":"length"/);
  assert.match(body, /"completion_tokens":120/);
  assert.match(body, /data: \[DONE\]\n\n$/);
  assert.equal(await exited, 0);
  assert.match(output(), /SIGTERM, finishing 1 request\(s\) in flight/);
  assert.match(output(), /alignkit serve: stopped/);
});

test('alignkit serve: bad flags say what is wrong', () => {
  const run = (args: string[], env: Record<string, string> = {}) =>
    spawnSync(process.execPath, [...ALIGNKIT, 'serve', ...args], { encoding: 'utf8', env: { ...process.env, ...env } });
  const nothing = run([]);
  assert.equal(nothing.status, 1);
  assert.match(nothing.stderr, /nothing to serve: give at least one --model NAME=REF/);
  assert.match(run(['--model', 'stories']).stderr, /--model expects NAME=REF, got "stories"/);
  assert.match(
    run(['--model', 'a=x', '--api-key-env', 'ALIGNKIT_TEST_UNSET_VAR']).stderr,
    /ALIGNKIT_TEST_UNSET_VAR \(named by --api-key-env\) is not set/,
  );
  assert.match(run(['--model', 'a=/no/such/model']).stderr, /model not found/);
  assert.match(
    run(['--model', 'a=x', '--allowed-origins', 'app.example']).stderr,
    /--allowed-origins.*"app\.example" is not an origin/,
  );
  assert.match(run(['--model', 'a=x', '--max-n', '0']).stderr, /--max-n expects a positive integer, got "0"/);
});
