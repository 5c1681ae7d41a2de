import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { connect } from 'node:net';
import OpenAI from 'openai';
import { SpecRecorder, parseSse } from './helpers/openai-spec.ts';
import { postJson, stalledGateway, storiesGateway } from './helpers/serve-fixtures.ts';

const expectError = (r: { status: number; body: any }, status: number, param?: string | null) => {
  assert.equal(r.status, status, JSON.stringify(r.body));
  assert.equal(typeof r.body.error?.message, 'string');
  assert.equal(typeof r.body.error?.type, 'string');
  if (param !== undefined) assert.equal(r.body.error.param, param);
};

test('bad requests get OpenAI-style 4xx bodies, and the server keeps serving', async (t) => {
  const { gateway } = await storiesGateway(t, { limits: { maxBodyBytes: 4000, maxTokens: 64 } });
  const url = `${gateway.url}/v1/completions`;
  expectError(await postJson(url, '{"model": "stories", "prompt": '), 400);
  expectError(await postJson(url, ''), 400);
  expectError(await postJson(url, '[1, 2]'), 400);
  expectError(await postJson(url, { model: 'stories', prompt: 'x', max_tokens: 'ten' }), 400, 'max_tokens');
  expectError(await postJson(url, { model: 'stories', prompt: 'x', max_tokens: 65 }), 400, 'max_tokens');
  expectError(await postJson(url, { model: 'stories', prompt: 'x', temperature: -1 }), 400, 'temperature');
  expectError(await postJson(url, { model: 'stories', prompt: 'x', n: 0 }), 400, 'n');
  expectError(await postJson(url, { model: 'stories', prompt: 'x', stop: [1] }), 400, 'stop');
  expectError(await postJson(url, { model: 'stories', prompt: 42 }), 400, 'prompt');
  expectError(await postJson(url, { model: 'stories', prompt: [1, 99999] }), 400, 'prompt');
  expectError(await postJson(url, { model: 'stories', prompt: 'x', logprobs: 21 }), 400, 'logprobs');
  expectError(await postJson(url, { model: 'stories', prompt: 'x', presence_penalty: 0.5 }), 400, 'presence_penalty');
  expectError(
    await postJson(url, { model: 'stories', prompt: 'x', prompt_logprobs: 1, stream: true }),
    400,
    'prompt_logprobs',
  );
  expectError(await postJson(url, { model: 'stories', prompt: new Array(600).fill(5) }), 400, 'prompt');
  expectError(await postJson(url, { prompt: 'x' }), 400, 'model');
  const unknown = await postJson(url, { model: 'gpt-9', prompt: 'x' });
  expectError(unknown, 404, 'model');
  assert.equal(unknown.body.error.code, 'model_not_found');
  expectError(await postJson(url, { model: 'stories', prompt: 'x'.repeat(5000) }), 413);
  const chat = `${gateway.url}/v1/chat/completions`;
  expectError(await postJson(chat, { model: 'stories', messages: 'hi' }), 400, 'messages');
  expectError(await postJson(chat, { model: 'stories', messages: [{ content: 'hi' }] }), 400, 'messages[0]');
  expectError(
    await postJson(chat, { model: 'stories', messages: [{ role: 'user', content: 'hi' }], top_logprobs: 2 }),
    400,
    'top_logprobs',
  );
  expectError(await postJson(`${gateway.url}/v1/nothing`, {}), 404);
  const wrongMethod = await fetch(url);
  assert.equal(wrongMethod.status, 405);
  expectError(await postJson(`${gateway.url}/detokenize`, { model: 'stories', tokens: ['a'] }), 400, 'tokens');
  const ok = await postJson(url, { model: 'stories', prompt: 'Once', max_tokens: 3 });
  assert.equal(ok.status, 200);
  assert.equal(gateway.stats().byStatus[500] ?? 0, 0);
});

test('bearer auth when a key is set: constant-time check, /health stays open', async (t) => {
  const { gateway } = await storiesGateway(t, { apiKey: 'sekrit-key' });
  const url = `${gateway.url}/v1/completions`;
  const body = { model: 'stories', prompt: 'Once', max_tokens: 2 };
  const missing = await postJson(url, body);
  expectError(missing, 401);
  assert.equal(missing.body.error.code, 'invalid_api_key');
  expectError(await postJson(url, body, { authorization: 'Bearer sekrit-kez' }), 401);
  expectError(await postJson(url, body, { authorization: 'Bearer sekrit-key-longer' }), 401);
  assert.equal((await postJson(url, body, { authorization: 'Bearer sekrit-key' })).status, 200);
  assert.equal((await fetch(`${gateway.url}/v1/models`)).status, 401);
  assert.equal((await fetch(`${gateway.url}/health`)).status, 200);
});

test('a full queue answers 429 with Retry-After', async (t) => {
  const { gateway } = await storiesGateway(t, { limits: { maxConcurrent: 1, maxQueue: 0 } });
  const controller = new AbortController();
  const long = await fetch(`${gateway.url}/v1/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    signal: controller.signal,
    body: JSON.stringify({ model: 'stories', prompt: 'Once', max_tokens: 400, stream: true }),
  });
  const reader = long.body!.getReader();
  await reader.read(); // the first event: the request is running
  const refused = await postJson(`${gateway.url}/v1/completions`, { model: 'stories', prompt: 'Once', max_tokens: 2 });
  expectError(refused, 429);
  assert.equal(refused.headers.get('retry-after'), '1');
  assert.equal(refused.body.error.code, 'queue_full');
  controller.abort();
  await reader.cancel().catch(() => undefined);
});

test('a request that runs past its time limit gets 504; the server stays up', async (t) => {
  const gateway = await stalledGateway(t, 150, { withStories: true });
  const timedOut = await postJson(`${gateway.url}/v1/completions`, { model: 'slow', prompt: 'Once', max_tokens: 5 });
  expectError(timedOut, 504);
  assert.equal(timedOut.body.error.code, 'request_timeout');
  assert.equal(
    (await postJson(`${gateway.url}/v1/completions`, { model: 'stories', prompt: 'Once', max_tokens: 2 })).status,
    200,
  );
  assert.equal(gateway.stats().inFlight, 0);
});

test('a client that disconnects cancels its generation', async (t) => {
  const { gateway } = await storiesGateway(t);
  const batcher = gateway.models.get('stories').batcher!;
  await new Promise<void>((resolve, reject) => {
    const req = request(
      `${gateway.url}/v1/completions`,
      { method: 'POST', headers: { 'content-type': 'application/json' } },
      (res) => {
        res.once('data', () => {
          req.destroy();
          resolve();
        });
      },
    );
    req.on('error', (e) => ((e as any).code === 'ECONNRESET' ? undefined : reject(e)));
    req.end(JSON.stringify({ model: 'stories', prompt: 'Once', max_tokens: 500, stream: true }));
  });
  while (batcher.load.activeSequences > 0 || gateway.stats().inFlight > 0) await new Promise((r) => setTimeout(r, 5));
  assert.ok(
    batcher.stats.decodedTokens < 500,
    `the generation ran on to ${batcher.stats.decodedTokens} tokens after the client left`,
  );
  assert.equal(
    (await postJson(`${gateway.url}/v1/completions`, { model: 'stories', prompt: 'Once', max_tokens: 2 })).status,
    200,
  );
});

test('binds to 127.0.0.1 unless told otherwise', async (t) => {
  const { gateway } = await storiesGateway(t);
  assert.equal(gateway.host, '127.0.0.1');
  assert.match(gateway.url, /^http:\/\/127\.0\.0\.1:\d+$/);
});

/** Opens a raw connection, sends `head` (and maybe part of a body), and collects what comes back until the server closes it. */
function rawExchange(url: string, head: string): Promise<{ answer: string; closed: boolean }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => socket.write(head));
    let answer = '';
    socket.on('data', (d) => (answer += d));
    socket.on('error', reject);
    socket.on('close', () => resolve({ answer, closed: true }));
  });
}

test('the request timeout covers the upload: a trickled body gets 408 and its connection is closed', async (t) => {
  const { gateway } = await storiesGateway(t, { limits: { requestTimeoutMs: 300 } });
  // 100 bytes announced, 20 sent, the rest never comes
  const { answer } = await rawExchange(
    gateway.url,
    `POST /v1/completions HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{"model": "stories",`,
  );
  assert.match(answer, /^HTTP\/1\.1 408 /);
  assert.match(answer, /connection: close/i);
  assert.match(answer, /"code":"request_timeout"/);
  assert.match(answer, /did not arrive within 300 ms/);
  // headers that never end are cut off by Node's own headers timeout, bounded by the same limit
  const headers = await rawExchange(gateway.url, 'POST /v1/completions HTTP/1.1\r\nhost: x\r\n');
  assert.ok(headers.closed);
  assert.equal(gateway.stats().inFlight, 0);
});

test('a stream that fails after it started ends with an error event, not a cut connection', async (t) => {
  const gateway = await stalledGateway(t, 300);
  const spec = new SpecRecorder();
  const chat = await spec.postJson(`${gateway.url}/v1/chat/completions`, {
    model: 'slow',
    messages: [{ role: 'user', content: 'Hi' }],
    stream: true,
  });
  const events = parseSse(chat.text).map((e) => e.data);
  assert.equal(chat.status, 200);
  assert.equal(JSON.parse(events[0]).choices[0].delta.role, 'assistant', 'the stream had started');
  assert.equal(JSON.parse(events.at(-2)!).error.code, 'request_timeout');
  assert.equal(events.at(-1), '[DONE]');

  const responses = await spec.postJson(`${gateway.url}/v1/responses`, { model: 'slow', input: 'Hi', stream: true });
  const types = parseSse(responses.text).map((e) => e.event);
  assert.deepEqual(types.slice(0, 2), ['response.created', 'response.in_progress']);
  assert.deepEqual(types.slice(-2), ['error', 'response.failed']);
  const failed = JSON.parse(parseSse(responses.text).at(-1)!.data);
  assert.equal(failed.response.status, 'failed');
  assert.equal(failed.response.error.code, 'server_error');

  // the official client reads the error event as an error
  const client = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: 'unused', maxRetries: 0, fetch: spec.fetch });
  await assert.rejects(async () => {
    for await (const _ of await client.completions.create({ model: 'slow', prompt: 'Hi', stream: true }));
  }, /did not finish within 300 ms/);
  await spec.assertClean();
});

test('CORS: allowed origins get preflights and headers, others none', async (t) => {
  const { gateway } = await storiesGateway(t, { allowedOrigins: ['https://app.example'], apiKey: 'k' });
  const preflight = (origin: string) =>
    fetch(`${gateway.url}/v1/chat/completions`, {
      method: 'OPTIONS',
      headers: {
        origin,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization,content-type,x-stainless-os',
      },
    });
  const allowed = await preflight('https://app.example');
  assert.equal(allowed.status, 204);
  assert.equal(allowed.headers.get('access-control-allow-origin'), 'https://app.example');
  assert.match(allowed.headers.get('access-control-allow-methods') ?? '', /POST/);
  assert.equal(allowed.headers.get('access-control-allow-headers'), 'authorization,content-type,x-stainless-os');
  const other = await preflight('https://evil.example');
  assert.equal(other.status, 204);
  assert.equal(other.headers.get('access-control-allow-origin'), null);
  const answer = await postJson(
    `${gateway.url}/v1/completions`,
    { model: 'stories', prompt: 'Once', max_tokens: 2 },
    { origin: 'https://app.example', authorization: 'Bearer k' },
  );
  assert.equal(answer.status, 200);
  assert.equal(answer.headers.get('access-control-allow-origin'), 'https://app.example');
  assert.match(answer.headers.get('access-control-expose-headers') ?? '', /x-request-id/);
  const refused = await postJson(`${gateway.url}/v1/completions`, {}, { origin: 'https://app.example' });
  assert.equal(refused.status, 401);
  assert.equal(refused.headers.get('access-control-allow-origin'), 'https://app.example', 'errors are readable too');
  const wrongMethod = await fetch(`${gateway.url}/v1/completions`, {
    method: 'DELETE',
    headers: { authorization: 'Bearer k' },
  });
  assert.equal(wrongMethod.status, 405);
  assert.equal(wrongMethod.headers.get('allow'), 'POST, OPTIONS');
});
