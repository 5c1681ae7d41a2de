import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseModelRef } from '../src/lm/model-ref.ts';
import { serverUrls } from '../src/lm/openai/server-urls.ts';
import { backoffDelayMs, parseRetryAfter } from '../src/lm/openai/retry.ts';
import { logprobLimitFrom } from '../src/lm/openai/capabilities.ts';
import { ConcurrencyLimiter } from '../src/lm/openai/concurrency-limiter.ts';
import { canonicalJson, requestKey } from '../src/lm/openai/response-cache.ts';

test('parseModelRef tells local paths from BASE_URL#MODEL and says what is wrong', () => {
  assert.deepEqual(parseModelRef('models/tiny'), { kind: 'local', path: 'models/tiny' });
  assert.deepEqual(parseModelRef('./a#b'), { kind: 'local', path: './a#b' });
  assert.deepEqual(parseModelRef('http://localhost:8000/v1/#Qwen/Qwen2.5-7B'), {
    kind: 'openai',
    baseUrl: 'http://localhost:8000/v1',
    model: 'Qwen/Qwen2.5-7B',
  });
  assert.deepEqual(parseModelRef('HTTPS://api.example.com#m'), {
    kind: 'openai',
    baseUrl: 'https://api.example.com',
    model: 'm',
  });
  assert.throws(() => parseModelRef('http://localhost:8000/v1'), /no model name \(expected BASE_URL#MODEL_NAME/);
  assert.throws(() => parseModelRef('http://localhost:8000/v1#'), /empty model name/);
  assert.throws(() => parseModelRef('http://:::#m'), /not a valid URL/);
  assert.throws(() => parseModelRef('  '), /empty model reference/);
});

test('serverUrls: OpenAI routes under /v1, vLLM/SGLang routes at the root', () => {
  assert.deepEqual(serverUrls('http://h:8000'), { apiBase: 'http://h:8000/v1', root: 'http://h:8000' });
  assert.deepEqual(serverUrls('http://h:8000/v1'), { apiBase: 'http://h:8000/v1', root: 'http://h:8000' });
  assert.deepEqual(serverUrls('https://h/proxy/v1/'), { apiBase: 'https://h/proxy/v1', root: 'https://h/proxy' });
});

test('Retry-After as seconds or an HTTP date; backoff within its full-jitter bound', () => {
  assert.equal(parseRetryAfter('3'), 3000);
  assert.equal(parseRetryAfter('0.25'), 250);
  assert.equal(parseRetryAfter('Thu, 01 Jan 2026 00:00:10 GMT', Date.parse('Thu, 01 Jan 2026 00:00:00 GMT')), 10_000);
  assert.equal(parseRetryAfter('soon'), undefined);
  assert.equal(parseRetryAfter(null), undefined);
  assert.equal(
    backoffDelayMs(3, 100, 10_000, () => 0.999),
    799,
  );
  assert.equal(
    backoffDelayMs(10, 100, 2000, () => 0.5),
    1000,
  );
  assert.equal(
    backoffDelayMs(0, 100, 2000, () => 0),
    0,
  );
});

test('logprobLimitFrom reads the limit a server states when it refuses', () => {
  assert.equal(logprobLimitFrom('400 Requested sample logprobs of 1000, which is greater than max allowed: 20'), 20);
  assert.equal(logprobLimitFrom('logprobs must be less than or equal to 5'), 5);
  assert.equal(logprobLimitFrom('top_logprobs must be at most 20'), 20);
  assert.equal(logprobLimitFrom('something else'), undefined);
});

test('ConcurrencyLimiter never runs more than its limit and keeps arrival order', async () => {
  const limiter = new ConcurrencyLimiter(2);
  let running = 0,
    peak = 0;
  const started: number[] = [];
  const gates: (() => void)[] = [];
  const tasks = Array.from({ length: 6 }, (_, i) =>
    limiter.run(async () => {
      started.push(i);
      peak = Math.max(peak, ++running);
      await new Promise<void>((resolve) => gates.push(resolve));
      running--;
      return i;
    }),
  );
  while (started.length < 6) {
    await new Promise((r) => setImmediate(r));
    gates.shift()?.();
  }
  gates.forEach((g) => g());
  assert.deepEqual(await Promise.all(tasks), [0, 1, 2, 3, 4, 5]);
  assert.deepEqual(started, [0, 1, 2, 3, 4, 5]);
  assert.equal(peak, 2);
  assert.throws(() => new ConcurrencyLimiter(0), /positive integer/);
});

test('cache keys ignore key order and undefined fields, and see every value', () => {
  assert.equal(canonicalJson({ b: 1, a: [1, { d: undefined, c: 'x' }] }), '{"a":[1,{"c":"x"}],"b":1}');
  assert.equal(requestKey({ a: 1, b: 2 }), requestKey({ b: 2, a: 1 }));
  assert.notEqual(requestKey({ a: 1, b: 2 }), requestKey({ a: 1, b: 3 }));
});
