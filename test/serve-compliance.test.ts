/**
 * The gateway as OpenAI's clients and specification expect it (issue 19): the Responses API,
 * request ranges and refused fields as the specification has them, fingerprints and request ids,
 * context limits, and every answer checked against the specification's schemas.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import type { LanguageModel } from '../src/lm/language-model.ts';
import { CHAT_FIELDS, COMPLETION_FIELDS, RESPONSE_FIELDS } from '../src/serve/field-policy.ts';
import { startGateway, type Gateway } from '../src/serve/http-server.ts';
import { serveModel } from '../src/serve/served-model.ts';
import { SpecRecorder, parseSse, specAccepts, specProperties } from './helpers/openai-spec.ts';
import { loadStories } from './helpers/serve-fixtures.ts';

let native: LanguageModel;
let gateway: Gateway;
let client: OpenAI;
const spec = new SpecRecorder();
const post = (path: string, body: unknown, headers?: Record<string, string>) =>
  spec.postJson(`${gateway.url}${path}`, body, headers);

before(async () => {
  native = await loadStories();
  gateway = await startGateway({ models: [serveModel('stories', native)], port: 0 });
  client = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: 'unused', maxRetries: 0, fetch: spec.fetch });
});

after(async () => {
  await gateway.shutdown(1000);
  await native.dispose();
  await spec.assertClean();
  assert.ok(spec.checked.bodies >= 30 && spec.checked.streams >= 3, JSON.stringify(spec.checked));
});

const messages = [{ role: 'user' as const, content: 'Tell me a story.' }];

test('/v1/responses through the official client: text, usage and status as chat gives them', async () => {
  const chat = await client.chat.completions.create({ model: 'stories', messages, max_tokens: 20, temperature: 0 });
  const response = await client.responses.create({
    model: 'stories',
    input: 'Tell me a story.',
    max_output_tokens: 20,
    temperature: 0,
  });
  assert.equal(response.object, 'response');
  assert.equal(response.output_text, chat.choices[0].message.content);
  assert.equal(response.status, 'incomplete');
  assert.deepEqual(response.incomplete_details, { reason: 'max_output_tokens' });
  assert.equal(response.usage?.input_tokens, chat.usage?.prompt_tokens);
  assert.equal(response.usage?.output_tokens, 20);
  assert.equal(response.usage?.total_tokens, chat.usage!.prompt_tokens + 20);

  // a message list with an earlier answer sent back as output_text, and instructions as a system message
  const turns = await client.responses.create({
    model: 'stories',
    instructions: 'Answer kindly.',
    input: [
      { role: 'user', content: [{ type: 'input_text', text: 'Hi' }] },
      {
        type: 'message',
        role: 'assistant',
        id: 'msg_1',
        status: 'completed',
        content: [{ type: 'output_text', text: 'Hello!', annotations: [] }],
      },
      { role: 'user', content: 'Tell me a story.' },
    ],
    max_output_tokens: 16,
    temperature: 0,
  });
  const asChat = await client.chat.completions.create({
    model: 'stories',
    messages: [
      { role: 'system', content: 'Answer kindly.' },
      { role: 'user', content: 'Hi' },
      { role: 'assistant', content: 'Hello!' },
      { role: 'user', content: 'Tell me a story.' },
    ],
    max_tokens: 16,
    temperature: 0,
  });
  assert.equal(turns.output_text, asChat.choices[0].message.content);
  assert.equal(turns.instructions, 'Answer kindly.');
  assert.equal(turns.usage?.input_tokens, asChat.usage?.prompt_tokens);
});

test('/v1/responses streams its events in the documented order', async () => {
  const whole = await client.responses.create({
    model: 'stories',
    input: 'Once',
    max_output_tokens: 24,
    temperature: 0,
  });
  const types: string[] = [];
  const sequence: number[] = [];
  let deltas = '';
  for await (const event of await client.responses.create({
    model: 'stories',
    input: 'Once',
    max_output_tokens: 24,
    temperature: 0,
    stream: true,
  })) {
    types.push(event.type);
    sequence.push(event.sequence_number);
    if (event.type === 'response.output_text.delta') deltas += event.delta;
  }
  const distinct = types.filter((t, i) => t !== types[i - 1]);
  assert.deepEqual(distinct, [
    'response.created',
    'response.in_progress',
    'response.output_item.added',
    'response.content_part.added',
    'response.output_text.delta',
    'response.output_text.done',
    'response.content_part.done',
    'response.output_item.done',
    'response.incomplete',
  ]);
  assert.ok(types.filter((t) => t === 'response.output_text.delta').length > 3, 'the text arrives in pieces');
  assert.deepEqual(
    sequence,
    sequence.map((_, i) => i),
  );
  assert.equal(deltas, whole.output_text);
  // the client's own accumulator rebuilds the same response from the events
  const final = await client.responses
    .stream({ model: 'stories', input: 'Once', max_output_tokens: 24, temperature: 0 })
    .finalResponse();
  assert.equal(final.output_text, whole.output_text);
  assert.equal(final.usage?.output_tokens, whole.usage?.output_tokens);
});

test('/v1/responses refuses what it cannot do, naming the field', async () => {
  const refused = async (body: Record<string, unknown>, param: string) => {
    const r = await post('/v1/responses', { model: 'stories', input: 'Hi', ...body });
    assert.equal(r.status, 400, JSON.stringify(r.body));
    assert.equal(r.body.error.param, param);
    assert.equal(r.body.error.code, 'unsupported_parameter');
  };
  await refused({ tools: [{ type: 'function', name: 'f', parameters: {} }] }, 'tools');
  await refused({ previous_response_id: 'resp_1' }, 'previous_response_id');
  await refused({ input: [{ role: 'user', content: [{ type: 'input_image', image_url: 'x' }] }] }, 'input[0].content');
  await refused({ input: [{ type: 'function_call_output', call_id: 'c', output: 'x' }] }, 'input[0]');
  await refused({ text: { format: { type: 'json_object' } } }, 'text.format');
  await refused({ reasoning: { effort: 'high' } }, 'reasoning');
  const short = await post('/v1/responses', { model: 'stories', input: 'Hi', max_output_tokens: 8 });
  assert.equal(short.status, 400); // the specification's minimum is 16
  assert.equal(short.body.error.param, 'max_output_tokens');
  const ok = await post('/v1/responses', {
    model: 'stories',
    input: 'Hi',
    max_output_tokens: 16,
    store: false,
    metadata: { run: 'a' },
    tool_choice: 'none',
    reasoning: { effort: 'none' },
    truncation: 'disabled',
  });
  assert.equal(ok.status, 200, JSON.stringify(ok.body));
  assert.deepEqual(ok.body.metadata, { run: 'a' });
});

test('requests are checked against the specification: what it refuses is a 400, what it allows is served', async () => {
  const chat = { model: 'stories', messages, max_tokens: 4 };
  const completion = { model: 'stories', prompt: 'Once', max_tokens: 4 };
  const cases: [path: string, schema: Parameters<typeof specAccepts>[0], body: Record<string, unknown>][] = [
    ['/v1/chat/completions', 'CreateChatCompletionRequest', { ...chat, temperature: 3 }],
    ['/v1/chat/completions', 'CreateChatCompletionRequest', { ...chat, temperature: 2 }],
    ['/v1/chat/completions', 'CreateChatCompletionRequest', { ...chat, top_p: 0 }],
    ['/v1/chat/completions', 'CreateChatCompletionRequest', { ...chat, top_p: 1.5 }],
    ['/v1/chat/completions', 'CreateChatCompletionRequest', { ...chat, max_tokens: 0 }],
    ['/v1/chat/completions', 'CreateChatCompletionRequest', { ...chat, stop: ['a', 'b', 'c', 'd', 'e'] }],
    ['/v1/chat/completions', 'CreateChatCompletionRequest', { ...chat, stop: ['a', 'b', 'c', 'd'] }],
    ['/v1/chat/completions', 'CreateChatCompletionRequest', { ...chat, stop: [] }],
    ['/v1/chat/completions', 'CreateChatCompletionRequest', { ...chat, messages: [{ role: 'wizard', content: 'hi' }] }],
    ['/v1/chat/completions', 'CreateChatCompletionRequest', { ...chat, messages: [{ role: 'user' }] }],
    ['/v1/chat/completions', 'CreateChatCompletionRequest', { ...chat, messages: [{ role: 'user', content: [] }] }],
    [
      '/v1/chat/completions',
      'CreateChatCompletionRequest',
      { ...chat, messages: [{ role: 'developer', content: 'Be brief.' }, ...messages] },
    ],
    [
      '/v1/chat/completions',
      'CreateChatCompletionRequest',
      { ...chat, messages: [{ role: 'assistant', content: null }, ...messages] },
    ],
    ['/v1/chat/completions', 'CreateChatCompletionRequest', { ...chat, logprobs: true, top_logprobs: 21 }],
    ['/v1/chat/completions', 'CreateChatCompletionRequest', { ...chat, presence_penalty: 3 }],
    ['/v1/chat/completions', 'CreateChatCompletionRequest', { ...chat, n: 0 }],
    ['/v1/chat/completions', 'CreateChatCompletionRequest', { ...chat, stream: true, stream_options: 'yes' }],
    ['/v1/chat/completions', 'CreateChatCompletionRequest', { ...chat, metadata: { a: 1 } }],
    ['/v1/chat/completions', 'CreateChatCompletionRequest', { ...chat, user: 5 }],
    ['/v1/chat/completions', 'CreateChatCompletionRequest', { ...chat, service_tier: 'premium' }],
    ['/v1/completions', 'CreateCompletionRequest', { ...completion, logprobs: 6 }],
    ['/v1/completions', 'CreateCompletionRequest', { ...completion, logprobs: 5 }],
    ['/v1/completions', 'CreateCompletionRequest', { ...completion, temperature: 3 }],
    ['/v1/completions', 'CreateCompletionRequest', { ...completion, top_p: 0 }],
    ['/v1/completions', 'CreateCompletionRequest', { ...completion, max_tokens: -1 }],
    ['/v1/completions', 'CreateCompletionRequest', { ...completion, stop: ['a', 'b', 'c', 'd', 'e'] }],
    ['/v1/completions', 'CreateCompletionRequest', { ...completion, best_of: 21 }],
    ['/v1/responses', 'CreateResponse', { model: 'stories', input: 'Hi', temperature: 2.5 }],
    ['/v1/responses', 'CreateResponse', { model: 'stories', input: 'Hi', max_output_tokens: 16, top_p: 0 }],
  ];
  for (const [path, schema, body] of cases) {
    const r = await post(path, body);
    const what = `${path} ${JSON.stringify(body)} → ${r.status} ${JSON.stringify(r.body).slice(0, 300)}`;
    if (specAccepts(schema, body)) assert.equal(r.status, 200, what);
    else {
      assert.equal(r.status, 400, what);
      assert.notEqual(r.body.error.code, 'unsupported_parameter', what);
    }
  }
});

test("the server's own limits are tighter than the specification's only by flags the error names", async () => {
  const many = await post('/v1/chat/completions', { model: 'stories', messages, max_tokens: 2, n: 17 });
  assert.ok(specAccepts('CreateChatCompletionRequest', { model: 'stories', messages, n: 17 }));
  assert.equal(many.status, 400);
  assert.match(many.body.error.message, /at most 16 \(this server's --max-n\)/);
  const prompts = await post('/v1/completions', { model: 'stories', prompt: new Array(257).fill('a'), max_tokens: 1 });
  assert.match(prompts.body.error.message, /--max-prompts/);
});

test('fields the server cannot honour are refused, metadata is type-checked and ignored', async () => {
  const base = { model: 'stories', messages, max_tokens: 2 };
  const refusals: [string, unknown][] = [
    ['tool_choice', 'required'],
    ['functions', [{ name: 'f', parameters: {} }]],
    ['function_call', { name: 'f' }],
    ['modalities', ['text', 'audio']],
    ['audio', { voice: 'alloy', format: 'wav' }],
    ['prediction', { type: 'content', content: 'x' }],
    ['web_search_options', {}],
    ['reasoning_effort', 'high'],
    ['response_format', { type: 'json_object' }],
    ['presence_penalty', 0.5],
    ['logit_bias', { '5': 10 }],
  ];
  for (const [field, value] of refusals) {
    const r = await post('/v1/chat/completions', { ...base, [field]: value });
    assert.equal(r.status, 400, `${field}: ${JSON.stringify(r.body)}`);
    assert.equal(r.body.error.param, field);
    assert.equal(r.body.error.code, 'unsupported_parameter');
  }
  const tool = await post('/v1/chat/completions', {
    ...base,
    messages: [...messages, { role: 'tool', content: 'x', tool_call_id: 'c' }],
  });
  assert.equal(tool.body.error.code, 'unsupported_parameter');
  const image = await post('/v1/chat/completions', {
    ...base,
    messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'http://x/y.png' } }] }],
  });
  assert.equal(image.body.error.code, 'unsupported_parameter');
  const neutral = await post('/v1/chat/completions', {
    ...base,
    user: 'u-1',
    metadata: { run: 'x' },
    store: true,
    service_tier: 'auto',
    parallel_tool_calls: false,
    tool_choice: 'none',
    modalities: ['text'],
    response_format: { type: 'text' },
    reasoning_effort: 'none',
    presence_penalty: 0,
    safety_identifier: 'abc',
  });
  assert.equal(neutral.status, 200, JSON.stringify(neutral.body));
  const suffix = await post('/v1/completions', { model: 'stories', prompt: 'Once', suffix: ' end', max_tokens: 2 });
  assert.equal(suffix.body.error.code, 'unsupported_parameter');
});

test("every field of the specification's request bodies has a rule (read, metadata or refused)", () => {
  for (const [schema, rules] of [
    ['CreateChatCompletionRequest', CHAT_FIELDS],
    ['CreateCompletionRequest', COMPLETION_FIELDS],
    ['CreateResponse', RESPONSE_FIELDS],
  ] as const) {
    const missing = specProperties(schema).filter((name) => !(name in rules));
    assert.deepEqual(missing, [], `${schema}: fields without a rule`);
  }
});

test('max_tokens beyond the context is a 400 naming the context length', async () => {
  const context = native.capabilities.maxContext;
  const completion = await post('/v1/completions', { model: 'stories', prompt: 'Once', max_tokens: 1000 });
  assert.equal(completion.status, 400);
  assert.equal(completion.body.error.code, 'context_length_exceeded');
  assert.equal(completion.body.error.param, 'max_tokens');
  assert.match(completion.body.error.message, new RegExp(`context is ${context} tokens`));
  const chat = await post('/v1/chat/completions', { model: 'stories', messages, max_completion_tokens: context });
  assert.equal(chat.body.error.param, 'max_completion_tokens');
  assert.equal(chat.body.error.code, 'context_length_exceeded');
  // without max_tokens, chat may use the rest of the context
  const open = await client.chat.completions.create({ model: 'stories', messages, temperature: 0 });
  assert.ok(open.usage!.total_tokens <= context);
});

test('a prompt that cannot fit is refused by its length before it is tokenized', async () => {
  const huge = 'Once upon a time there was a girl. '.repeat(180_000); // 6.3 MB
  const health = fetch(`${gateway.url}/health`);
  const r = await post('/v1/completions', { model: 'stories', prompt: huge, max_tokens: 1 });
  assert.equal(r.status, 400);
  assert.equal(r.body.error.code, 'context_length_exceeded');
  assert.match(r.body.error.message, new RegExp(`the prompt has ${huge.length} characters`));
  const chat = await post('/v1/chat/completions', { model: 'stories', messages: [{ role: 'user', content: huge }] });
  assert.match(chat.body.error.message, /characters/);
  assert.equal((await health).status, 200);
});

test("system_fingerprint, x-request-id (the client's, echoed) and refusal: null", async () => {
  const chat = await post(
    '/v1/chat/completions',
    { model: 'stories', messages, max_tokens: 3 },
    { 'x-request-id': 'trace-42' },
  );
  assert.equal(chat.headers.get('x-request-id'), 'trace-42');
  assert.match(chat.body.system_fingerprint, /^fp_[0-9a-f]{12}$/);
  assert.equal(chat.body.choices[0].message.refusal, null);
  const completion = await post('/v1/completions', { model: 'stories', prompt: 'Once', max_tokens: 3 });
  assert.equal(completion.body.system_fingerprint, chat.body.system_fingerprint);
  assert.match(completion.headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/);
  const failed = await post(
    '/v1/completions',
    { model: 'stories', prompt: 'Once', temperature: 9 },
    { 'x-request-id': 'bad-1' },
  );
  assert.equal(failed.headers.get('x-request-id'), 'bad-1');
});

test('streams: usage null before the last chunk, logprobs with refusal, fingerprints', async () => {
  const r = await post('/v1/chat/completions', {
    model: 'stories',
    messages,
    max_tokens: 6,
    n: 2,
    logprobs: true,
    top_logprobs: 2,
    stream: true,
    stream_options: { include_usage: true },
  });
  const chunks = parseSse(r.text)
    .filter((e) => e.data !== '[DONE]')
    .map((e) => JSON.parse(e.data));
  const last = chunks.pop();
  assert.equal(last.usage.completion_tokens, 12);
  assert.deepEqual(last.choices, []);
  for (const c of chunks) {
    assert.equal(c.usage, null);
    assert.equal(c.system_fingerprint, last.system_fingerprint);
  }
  const withLogprobs = chunks.filter((c) => c.choices[0].logprobs);
  assert.equal(withLogprobs.length, 12);
  for (const c of withLogprobs) assert.equal(c.choices[0].logprobs.refusal, null);
});

test('a request that fails before streaming gets a JSON error, not a cut stream', async () => {
  const r = await post('/v1/chat/completions', { model: 'stories', messages, stream: true, stream_options: 'yes' });
  assert.equal(r.status, 400);
  assert.equal(r.body.error.param, 'stream_options');
  assert.match(r.headers.get('content-type') ?? '', /application\/json/);
});

test('echoed text_offset: each token starts where the text has it', async () => {
  for (const prompt of [
    'Once upon a time, Lily saw a big dog.',
    native.tokenizer.encode('The cat sat. It was happy'),
  ]) {
    const r = await post('/v1/completions', {
      model: 'stories',
      prompt,
      max_tokens: 5,
      echo: true,
      logprobs: 1,
      temperature: 0,
    });
    const { text } = r.body.choices[0];
    const { tokens, text_offset: offsets } = r.body.choices[0].logprobs;
    assert.equal(tokens.length, offsets.length);
    for (let i = 0; i < tokens.length; i++) {
      const end = i + 1 < offsets.length ? offsets[i + 1] : text.length;
      const piece = text.slice(offsets[i], end);
      // what the token adds to the text: all of it, but for BOS (nothing) and the first word's leading space
      assert.ok(tokens[i].endsWith(piece), `token ${i} ${JSON.stringify(tokens[i])} vs text ${JSON.stringify(piece)}`);
      if (i >= 2) assert.ok(text.startsWith(tokens[i], offsets[i]), `token ${i} ${JSON.stringify(tokens[i])}`);
    }
    assert.equal(offsets[0], 0);
  }
});
