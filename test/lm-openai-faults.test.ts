import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createOpenAIModel, type OpenAIModelOptions } from '../src/lm/openai/openai-model.ts';
import { requireScoring, type LanguageModel } from '../src/lm/language-model.ts';
import { startGateway, type Gateway } from '../src/serve/http-server.ts';
import { serveModel } from '../src/serve/served-model.ts';
import { startFaultProxy, type FaultProxy, type SeenRequest } from './helpers/fault-proxy.ts';
import { loadStories } from './helpers/serve-fixtures.ts';

let native: LanguageModel;
let gateway: Gateway;
let proxy: FaultProxy;

before(async () => {
  native = await loadStories();
  gateway = await startGateway({ models: [serveModel('stories', native)], port: 0 });
  proxy = await startFaultProxy(gateway.url);
});

after(async () => {
  await proxy.close();
  await gateway.shutdown(1000);
  await native.dispose();
});

const completionsRoute = (r: SeenRequest) => r.path === '/v1/completions';
const fast: OpenAIModelOptions = { retryBaseDelayMs: 2, timeoutMs: 5000, maxRetries: 4 };
const remote = (options: OpenAIModelOptions = {}, base = proxy.url) =>
  createOpenAIModel(`${base}/v1#stories`, { ...fast, ...options });
const tempDir = (t: { after: (f: () => void) => void }) => {
  const dir = mkdtempSync(join(tmpdir(), 'alignkit-openai-cache-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
};
const cacheEntries = (dir: string) =>
  readdirSync(dir, { recursive: true }).filter((f) => String(f).endsWith('.json')).length;

const PROMPT = [1, 403, 407, 261, 378];
const greedy = { prompt: PROMPT, maxNewTokens: 6, temperature: 0 };

test('500s then success: retried, and the result is the unfaulted one', async () => {
  const model = await remote();
  const [expected] = await native.sample(greedy);
  proxy.inject(
    [
      { kind: 'status', status: 500 },
      { kind: 'status', status: 503 },
    ],
    completionsRoute,
  );
  const before = { ...model.stats };
  const [got] = await model.sample(greedy);
  assert.deepEqual(got.tokens, expected.tokens);
  assert.equal(model.stats.retries - before.retries, 2);
  assert.equal(model.stats.attempts - before.attempts, 3);
  // full-jitter backoff stays within base·2^attempt
  assert.ok(model.stats.retryDelaysMs.at(-2)! <= 2 && model.stats.retryDelaysMs.at(-1)! <= 4);
  await model.dispose();
});

test('429 with Retry-After: waits what the server says, then succeeds', async () => {
  const model = await remote();
  proxy.inject([{ kind: 'status', status: 429, retryAfter: '0.05' }], completionsRoute);
  const [got] = await model.sample(greedy);
  const [expected] = await native.sample(greedy);
  assert.deepEqual(got.tokens, expected.tokens);
  assert.equal(model.stats.retryDelaysMs.at(-1), 50);
  await model.dispose();
});

test('a hanging server: the attempt times out and is retried; a server that never answers gives a clear error', async () => {
  const model = await remote({ timeoutMs: 300, maxRetries: 1 });
  proxy.inject([{ kind: 'hang' }], completionsRoute);
  const [got] = await model.sample(greedy);
  const [expected] = await native.sample(greedy);
  assert.deepEqual(got.tokens, expected.tokens);
  assert.equal(model.stats.retries, 1);

  proxy.inject([{ kind: 'hang' }, { kind: 'hang' }], completionsRoute);
  await assert.rejects(model.sample({ ...greedy, maxNewTokens: 7 }), (e: Error) => {
    assert.equal((e as any).kind, 'backend');
    assert.match(e.message, /failed after 2 attempts: timed out/);
    return true;
  });
  await model.dispose();
});

test('connection resets and truncated bodies are retried; the result is correct', async () => {
  const model = await remote();
  const items = [{ prefix: PROMPT.slice(0, 2), continuation: PROMPT.slice(2) }];
  const expected = await native.score!(items);
  proxy.inject([{ kind: 'reset' }, { kind: 'truncate' }, { kind: 'bad-json' }], completionsRoute);
  const got = await model.score!(items);
  assert.equal(model.stats.retries, 3);
  assert.deepEqual(got[0].tokens, expected[0].tokens);
  got[0].logprobs.forEach((lp, i) => assert.ok(Math.abs(lp - expected[0].logprobs[i]) < 1e-5));
  await model.dispose();
});

test('a server that keeps sending malformed JSON: a clear error, and nothing is cached', async (t) => {
  const cacheDir = tempDir(t);
  const model = await remote({ cacheDir, maxRetries: 2 });
  const entriesBefore = cacheEntries(cacheDir);
  proxy.inject([{ kind: 'bad-json' }, { kind: 'bad-json' }, { kind: 'bad-json' }], completionsRoute);
  await assert.rejects(model.sample({ ...greedy, maxNewTokens: 9 }), /failed after 3 attempts: malformed response/);
  assert.equal(cacheEntries(cacheDir), entriesBefore);
  await model.dispose();
});

test('a 4xx is not retried and its message reaches the caller', async () => {
  const model = await remote();
  proxy.inject(
    [{ kind: 'status', status: 400, body: JSON.stringify({ error: { message: 'bad thing here' } }) }],
    completionsRoute,
  );
  const attempts = model.stats.attempts;
  await assert.rejects(model.sample(greedy), /server answered 400 bad thing here/);
  assert.equal(model.stats.attempts - attempts, 1);
  await model.dispose();
});

test('the response cache: a re-run costs zero calls, a retried request is stored once, equal concurrent requests share one call', async (t) => {
  const cacheDir = tempDir(t);
  const first = await remote({ cacheDir });
  const start = proxy.seen.length;
  const items = [{ prefix: 'Once upon a time', continuation: ' there was a cat' }];
  proxy.inject([{ kind: 'status', status: 502 }], completionsRoute);
  const scored = await first.score!(items);
  const seeded = await first.sample({ prompt: 'Once upon a time', maxNewTokens: 8, seed: 7, n: 2 });
  const [a, b] = await Promise.all([
    first.sample({ ...greedy, maxNewTokens: 5 }),
    first.sample({ ...greedy, maxNewTokens: 5 }),
  ]);
  assert.deepEqual(a, b);
  const entries = cacheEntries(cacheDir);
  const sent = proxy.seen.slice(start);
  const distinct = new Set(sent.map((r) => r.path + JSON.stringify(r.body))).size;
  assert.equal(sent.length, distinct + 1, 'only the request that met the 502 should have been sent twice');
  assert.equal(entries, distinct, 'one cache entry per distinct request');

  const seenBefore = proxy.seen.length;
  const second = await remote({ cacheDir });
  assert.deepEqual(await second.score!(items), scored);
  assert.deepEqual(await second.sample({ prompt: 'Once upon a time', maxNewTokens: 8, seed: 7, n: 2 }), seeded);
  assert.deepEqual(await second.sample({ ...greedy, maxNewTokens: 5 }), a);
  assert.equal(proxy.seen.length, seenBefore, 'the re-run sent requests');
  assert.equal(second.stats.attempts, 0);
  assert.equal(cacheEntries(cacheDir), entries, 'the re-run wrote new entries');
  await first.dispose();
  await second.dispose();
});

test('unseeded sampling: repeated requests draw anew, and a re-run replays the same draws from the cache', async (t) => {
  const cacheDir = tempDir(t);
  const first = await remote({ cacheDir });
  const request = { prompt: PROMPT, maxNewTokens: 12, n: 2 };
  const draws = [await first.sample(request), await first.sample(request), await first.sample(request)];
  assert.equal(first.stats.attempts, 3);
  assert.ok(new Set(draws.map((d) => JSON.stringify(d))).size > 1, 'three unseeded draws were all equal');
  const second = await remote({ cacheDir });
  const replay = [await second.sample(request), await second.sample(request), await second.sample(request)];
  assert.deepEqual(replay, draws);
  assert.equal(second.stats.attempts, 0);
  await first.dispose();
  await second.dispose();
});

test('a server without echo scoring: scoring falls back to prompt_logprobs with the same scores', async (t) => {
  const noEcho = await startFaultProxy(gateway.url);
  t.after(() => noEcho.close());
  noEcho.always((r) =>
    r.path === '/v1/completions' && r.body?.echo
      ? { kind: 'status', status: 400, body: '{"error":{"message":"echo is not supported"}}' }
      : undefined,
  );
  const model = await remote({}, noEcho.url);
  assert.equal(model.server.scoring, 'prompt-logprobs');
  const items = [
    { prefix: PROMPT.slice(0, 3), continuation: PROMPT.slice(3) },
    { prefix: [1], continuation: [403, 407] },
  ];
  const expected = await native.score!(items);
  const got = await model.score!(items);
  got.forEach((g, i) => {
    assert.deepEqual(g.tokens, expected[i].tokens);
    assert.ok(Math.abs(g.total - expected[i].total) < 1e-4);
  });
  await model.dispose();
});

test('a server with no scoring route: score() names the server features that would provide it', async (t) => {
  const plain = await startFaultProxy(gateway.url);
  t.after(() => plain.close());
  plain.always((r) =>
    r.path === '/v1/completions' && (r.body?.echo || r.body?.prompt_logprobs !== undefined)
      ? { kind: 'status', status: 400 }
      : undefined,
  );
  const model = await remote({}, plain.url);
  assert.equal(model.capabilities.scoring, false);
  assert.equal(model.score, undefined, 'no scoring method without the capability');
  await assert.rejects(
    async () => requireScoring(model, 'this check')([{ prefix: [1], continuation: [403] }]),
    (e: Error) => {
      assert.equal((e as any).kind, 'capability');
      assert.match(e.message, /echo\+logprobs/);
      assert.match(e.message, /prompt_logprobs \(vLLM\)/);
      assert.match(e.message, /logprob_start_len on \/generate \(SGLang\)/);
      return true;
    },
  );
  await model.dispose();
});

test('an SGLang-shaped server: scoring through /generate with logprob_start_len, top-k through top_logprobs_num', async (t) => {
  const { emulateSglang } = await import('./helpers/sglang-emulator.ts');
  const sglang = await startFaultProxy(gateway.url);
  t.after(() => sglang.close());
  emulateSglang(sglang, native);
  const model = await remote({}, sglang.url);
  assert.equal(model.server.scoring, 'sglang-generate');
  assert.equal(model.server.topLogprobsRoute, 'sglang-generate');
  const items = [
    { prefix: PROMPT.slice(0, 2), continuation: PROMPT.slice(2) },
    { prefix: [1], continuation: [403] },
  ];
  const [expected, got] = [await native.score!(items), await model.score!(items)];
  got.forEach((g, i) => g.logprobs.forEach((lp, j) => assert.ok(Math.abs(lp - expected[i].logprobs[j]) < 1e-6)));
  const state = await model.open!([PROMPT]);
  const row = await state.nextLogprobs();
  const local = await native.open!([PROMPT]);
  const full = await local.nextLogprobs();
  local.close();
  const best = [...full.data.keys()].sort((a, b) => full.data[b] - full.data[a])[0];
  assert.equal(row.data[best], full.data[best]);
  assert.equal([...row.data].filter(Number.isFinite).length, model.capabilities.topLogprobs);
  await model.dispose();
});

test('a server that refuses the key: creating the model says so instead of probing on', async (t) => {
  const locked = await startFaultProxy(gateway.url);
  t.after(() => locked.close());
  locked.always(() => ({ kind: 'status', status: 401, body: '{"error":{"message":"Incorrect API key provided."}}' }));
  await assert.rejects(remote({}, locked.url), /refused the credentials \(401\).*--api-key-env/);
  assert.equal(locked.seen.length, 1);
});

test('a server without return_token_ids: sampled ids come from "token_id:N" logprob tokens', async (t) => {
  const older = await startFaultProxy(gateway.url);
  t.after(() => older.close());
  older.always((r) =>
    r.path === '/v1/completions' && r.body?.return_token_ids ? { kind: 'status', status: 400 } : undefined,
  );
  const model = await remote({}, older.url);
  assert.equal(model.server.returnTokenIds, false);
  const [got] = await model.sample(greedy);
  const [expected] = await native.sample(greedy);
  assert.deepEqual(got.tokens, expected.tokens);
  assert.equal(got.logprobs, undefined);
  await model.dispose();
});
