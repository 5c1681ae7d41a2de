import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import type { LanguageModel } from '../src/lm/language-model.ts';
import { createOpenAIModel, type OpenAICompatibleModel } from '../src/lm/openai/openai-model.ts';
import { startGateway, type Gateway } from '../src/serve/http-server.ts';
import { serveModel } from '../src/serve/served-model.ts';
import { SpecRecorder } from './helpers/openai-spec.ts';
import { loadStories } from './helpers/serve-fixtures.ts';

let native: LanguageModel;
let gateway: Gateway;
let client: OpenAI;
let remote: OpenAICompatibleModel;
// every answer these tests get is checked against the OpenAI specification's schemas
const spec = new SpecRecorder();
const postJson = spec.postJson.bind(spec);

before(async () => {
  native = await loadStories();
  gateway = await startGateway({ models: [serveModel('stories', native)], port: 0 });
  client = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: 'unused', maxRetries: 0, fetch: spec.fetch });
  remote = await createOpenAIModel(`${gateway.url}/v1#stories`);
});

after(async () => {
  await remote.dispose();
  await gateway.shutdown(1000);
  await native.dispose();
  await spec.assertClean();
  assert.ok(spec.checked.bodies >= 10 && spec.checked.streams >= 3, JSON.stringify(spec.checked));
});

const PROMPT = 'Once upon a time';
const close = (a: number, b: number, tol = 1e-5) => assert.ok(Math.abs(a - b) < tol, `${a} vs ${b}`);

test('the official openai client: completions, with token ids equal to in-process greedy decoding', async () => {
  const [expected] = await native.sample({ prompt: PROMPT, maxNewTokens: 16, temperature: 0 });
  const response = await client.completions.create({
    model: 'stories',
    prompt: PROMPT,
    max_tokens: 16,
    temperature: 0,
    return_token_ids: true,
  } as any);
  const choice = response.choices[0] as any;
  assert.deepEqual(choice.token_ids, expected.tokens);
  assert.equal(choice.text.trim(), expected.text.trim());
  assert.equal(choice.finish_reason, 'length');
  assert.equal(response.usage?.completion_tokens, 16);
  assert.equal(response.usage?.prompt_tokens, native.tokenizer.encode(PROMPT).length);
});

test('the official openai client: streamed completions and chat equal the unstreamed ones', async () => {
  const whole = await client.completions.create({ model: 'stories', prompt: PROMPT, max_tokens: 20, temperature: 0 });
  let streamed = '';
  let finish: string | null = null;
  for await (const chunk of await client.completions.create({
    model: 'stories',
    prompt: PROMPT,
    max_tokens: 20,
    temperature: 0,
    stream: true,
  })) {
    streamed += chunk.choices[0]?.text ?? '';
    finish = chunk.choices[0]?.finish_reason ?? finish;
  }
  assert.equal(streamed, whole.choices[0].text);
  assert.equal(finish, 'length');

  const messages = [{ role: 'user' as const, content: 'Tell me a story.' }];
  const chat = await client.chat.completions.create({ model: 'stories', messages, max_tokens: 20, temperature: 0 });
  assert.equal(chat.object, 'chat.completion');
  assert.equal(chat.choices[0].message.role, 'assistant');
  let content = '';
  let usage: OpenAI.CompletionUsage | undefined;
  for await (const chunk of await client.chat.completions.create({
    model: 'stories',
    messages,
    max_tokens: 20,
    temperature: 0,
    stream: true,
    stream_options: { include_usage: true },
  })) {
    content += chunk.choices[0]?.delta?.content ?? '';
    usage = chunk.usage ?? usage;
  }
  assert.equal(content, chat.choices[0].message.content);
  assert.equal(usage?.completion_tokens, chat.usage?.completion_tokens);
});

test('chat logprobs: top_logprobs sorted, the greedy token first', async () => {
  const chat = await client.chat.completions.create({
    model: 'stories',
    messages: [{ role: 'user', content: 'Hi' }],
    max_tokens: 6,
    temperature: 0,
    logprobs: true,
    top_logprobs: 3,
  });
  const content = chat.choices[0].logprobs!.content!;
  assert.equal(content.length, chat.usage!.completion_tokens);
  assert.equal(content.map((c) => c.token).join(''), chat.choices[0].message.content);
  for (const c of content) {
    assert.equal(c.top_logprobs.length, 3);
    assert.ok(
      c.top_logprobs[0].logprob >= c.top_logprobs[1].logprob && c.top_logprobs[1].logprob >= c.top_logprobs[2].logprob,
    );
    close(c.logprob, c.top_logprobs[0].logprob);
    assert.deepEqual(c.bytes, [...Buffer.from(c.token)]);
  }
});

test('scores through HTTP (the openai-compatible backend) equal in-process scores', async () => {
  assert.equal(remote.server.scoring, 'echo');
  const items = [
    { prefix: PROMPT, continuation: ' there was a little cat' },
    { prefix: [1, 403, 407], continuation: [261, 378, 432] },
    { prefix: 'Lily liked', continuation: ' to play outside with her dog.' },
  ];
  const [expected, got] = [await native.score!(items), await remote.score!(items)];
  got.forEach((g, i) => {
    assert.deepEqual(g.tokens, expected[i].tokens);
    g.logprobs.forEach((lp, j) => close(lp, expected[i].logprobs[j]));
    close(g.total, expected[i].total, 1e-4);
  });
});

test('echo + max_tokens 0 and prompt_logprobs in vLLM shapes', async () => {
  const ids = native.tokenizer.encode(PROMPT);
  const [scored] = await native.score!([{ prefix: ids.slice(0, 1), continuation: ids.slice(1) }]);
  const echo = await postJson(`${gateway.url}/v1/completions`, {
    model: 'stories',
    prompt: ids,
    max_tokens: 0,
    echo: true,
    logprobs: 2,
  });
  assert.equal(echo.status, 200);
  const lp = echo.body.choices[0].logprobs;
  assert.equal(lp.token_logprobs[0], null);
  assert.equal(lp.top_logprobs[0], null);
  lp.token_logprobs.slice(1).forEach((x: number, i: number) => close(x, scored.logprobs[i]));
  for (const top of lp.top_logprobs.slice(1)) assert.ok(Object.keys(top).length >= 2 && Object.keys(top).length <= 3);
  assert.equal(echo.body.choices[0].text, PROMPT);

  const pl = await postJson(`${gateway.url}/v1/completions`, {
    model: 'stories',
    prompt: ids,
    max_tokens: 1,
    prompt_logprobs: 1,
    temperature: 0,
  });
  const rows = pl.body.choices[0].prompt_logprobs;
  assert.equal(rows.length, ids.length);
  assert.equal(rows[0], null);
  rows.slice(1).forEach((row: any, i: number) => {
    const own = row[String(ids[i + 1])];
    close(own.logprob, scored.logprobs[i]);
    assert.ok(Number.isInteger(own.rank) && own.rank >= 1);
    const best = Object.values(row).find((e: any) => e.rank === 1) as any;
    assert.ok(best.logprob >= own.logprob);
  });
});

test('seeded samples are reproducible through HTTP and equal in-process samples', async () => {
  const request = { prompt: PROMPT, maxNewTokens: 24, n: 3, seed: 1234, temperature: 0.9, topP: 0.95 };
  const [a, b, local] = [await remote.sample(request), await remote.sample(request), await native.sample(request)];
  assert.deepEqual(a, b);
  assert.deepEqual(
    a.map((s) => s.tokens),
    local.map((s) => s.tokens),
  );
  assert.ok(new Set(a.map((s) => s.text)).size > 1, 'the three choices were identical');
  const other = await remote.sample({ ...request, seed: 99 });
  assert.notDeepEqual(
    other.map((s) => s.tokens),
    a.map((s) => s.tokens),
  );
});

test('stop strings end the text before the stop, streamed or not, and never leak', async () => {
  const greedy = await client.completions.create({ model: 'stories', prompt: PROMPT, max_tokens: 30, temperature: 0 });
  const text = greedy.choices[0].text;
  const stop = ' Lily';
  assert.ok(text.includes(stop), `greedy text ${JSON.stringify(text)} lacks the stop string`);
  const cut = text.slice(0, text.indexOf(stop));
  const stopped = await client.completions.create({
    model: 'stories',
    prompt: PROMPT,
    max_tokens: 30,
    temperature: 0,
    stop: [stop],
  });
  assert.equal(stopped.choices[0].text, cut);
  assert.equal(stopped.choices[0].finish_reason, 'stop');
  assert.equal((stopped.choices[0] as any).stop_reason, stop);
  let streamed = '';
  for await (const chunk of await client.completions.create({
    model: 'stories',
    prompt: PROMPT,
    max_tokens: 30,
    temperature: 0,
    stop: [stop],
    stream: true,
  })) {
    streamed += chunk.choices[0]?.text ?? '';
  }
  assert.equal(streamed, cut);
});

test('several prompts and n choices come back indexed prompt-major', async () => {
  const response = await client.completions.create({
    model: 'stories',
    prompt: ['Once upon a time', 'The cat'],
    max_tokens: 5,
    n: 2,
    seed: 3,
  });
  assert.deepEqual(
    response.choices.map((c) => c.index),
    [0, 1, 2, 3],
  );
  const single = await client.completions.create({ model: 'stories', prompt: 'The cat', max_tokens: 5, n: 2, seed: 3 });
  assert.deepEqual(
    response.choices.slice(2).map((c) => c.text),
    single.choices.map((c) => c.text),
  );
});

test('top-k next-token log-probs over HTTP match the in-process distribution', async () => {
  // completions' logprobs stops at 5 by the OpenAI specification; the backend learns that from the 400
  assert.equal(remote.capabilities.topLogprobs, 5);
  assert.equal(remote.capabilities.fullLogits, false);
  const prefix = native.tokenizer.encode(PROMPT);
  const [httpState, localState] = [await remote.open!([prefix]), await native.open!([prefix])];
  const [h, l] = [await httpState.nextLogprobs(), await localState.nextLogprobs()];
  assert.equal(h.vocab, l.vocab);
  const finite = [...h.data.keys()].filter((i) => Number.isFinite(h.data[i]));
  assert.equal(finite.length, 5);
  const localTop = [...l.data.keys()].sort((x, y) => l.data[y] - l.data[x]).slice(0, 5);
  assert.deepEqual(new Set(finite), new Set(localTop));
  for (const i of finite) close(h.data[i], l.data[i]);
  const appended = await httpState.append([[localTop[0], 410]]);
  const expected = await localState.append([[localTop[0], 410]]);
  appended[0].forEach((x, i) => close(x, expected[0][i]));
  assert.deepEqual(httpState.tokens(0), localState.tokens(0));
  localState.close();
});

test('tokenize, detokenize, models, health', async () => {
  const tok = await postJson(`${gateway.url}/tokenize`, { model: 'stories', prompt: PROMPT, return_token_strs: true });
  assert.deepEqual(tok.body.tokens, native.tokenizer.encode(PROMPT));
  assert.equal(tok.body.count, tok.body.tokens.length);
  assert.equal(tok.body.max_model_len, native.capabilities.maxContext);
  assert.equal(tok.body.token_strs.length, tok.body.count);
  const detok = await postJson(`${gateway.url}/detokenize`, { model: 'stories', tokens: tok.body.tokens });
  assert.equal(detok.body.prompt, PROMPT);
  const chatTok = await postJson(`${gateway.url}/tokenize`, {
    model: 'stories',
    messages: [{ role: 'user', content: 'Hi' }],
  });
  assert.ok(chatTok.body.count > 2);
  const models = await client.models.list();
  assert.deepEqual(
    models.data.map((m) => m.id),
    ['stories'],
  );
  assert.equal((models.data[0] as any).vocab_size, native.tokenizer.vocabSize);
  const health = await fetch(`${gateway.url}/health`);
  assert.equal(health.status, 200);
  assert.deepEqual(remote.tokenizer.vocabSize, native.tokenizer.vocabSize);
});

test('the openai-compatible backend: chat and async tokenize through the server', async () => {
  const messages = [{ role: 'user', content: 'Tell me a story.' }];
  const [viaBackend] = await remote.chat({ messages, maxNewTokens: 8, temperature: 0, topLogprobs: 2 });
  const viaClient = await client.chat.completions.create({
    model: 'stories',
    messages: messages as any,
    max_tokens: 8,
    temperature: 0,
  });
  assert.equal(viaBackend.text, viaClient.choices[0].message.content);
  assert.equal(viaBackend.finishReason, 'length');
  assert.equal(viaBackend.logprobs!.length, 8);
  viaBackend.logprobs!.forEach((l) => assert.equal(l.topLogprobs.length, 2));
  const ids = await remote.tokenize(PROMPT);
  assert.deepEqual(ids, native.tokenizer.encode(PROMPT));
  assert.equal(await remote.detokenize(ids), PROMPT);
  assert.ok(remote.usage.generatedTokens > 0 && remote.usage.promptTokens > 0);
});
