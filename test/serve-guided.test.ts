import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import OpenAI from 'openai';
import { runSteerMethod } from '../src/decode/steer-methods/index.ts';
import { parseGuidedConfig, readGuidedConfig } from '../src/serve/guided-config.ts';
import { loadGuidedModel } from '../src/serve/guided-model.ts';
import { startGateway } from '../src/serve/http-server.ts';
import { serveModel } from '../src/serve/served-model.ts';
import { SpecRecorder } from './helpers/openai-spec.ts';
import { STORIES, loadStories, postJson } from './helpers/serve-fixtures.ts';

const rejects = (value: unknown, field: RegExp, message: RegExp) =>
  assert.throws(
    () => parseGuidedConfig(value, 'g.yaml'),
    (e: Error) => {
      assert.match(e.message, /^g\.yaml, field "/);
      assert.match(e.message, field);
      assert.match(e.message, message);
      return true;
    },
  );

test('guided configs are validated; errors name the file and the key', () => {
  rejects({ models: { large: 'a' } }, /field "method"/, /is required/);
  rejects(
    { method: 'magic', models: { large: 'a' } },
    /field "method"/,
    /must be one of sample, bon, eft, ed, w2s, ivg/,
  );
  rejects(
    { method: 'w2s', models: { large: 'a', tuned: 'b' } },
    /field "models\.untuned"/,
    /method w2s needs this model/,
  );
  rejects(
    { method: 'w2s', models: { large: 'a', tuned: 'b', untuned: 'c', helper: 'd' } },
    /field "models\.helper"/,
    /unknown key/,
  );
  rejects(
    { method: 'w2s', models: { large: 'a', tuned: 'b', untuned: 'c' }, settings: { beams: 0 } },
    /field "settings\.beams"/,
    /settings\.beams expects a positive integer, got 0/,
  );
  rejects(
    { method: 'bon', models: { large: 'a' }, settings: { bonScorer: 'gpt' } },
    /field "settings\.bonScorer"/,
    /log-ratio, reward, vader, afinn/,
  );
  rejects({ method: 'ed', models: { large: 'a' } }, /field "models\.aligned or models\.tuned"/, /needs this model/);
  rejects({ method: 'ivg', models: { large: 'a' } }, /field "models\.value"/, /needs this model/);
  assert.equal(
    parseGuidedConfig({ method: 'bon', models: { large: 'a' }, settings: { bonScorer: 'vader', n: 4 } }, 'g.yaml')
      .settings.n,
    4,
  );
});

test('readGuidedConfig reads yaml and resolves local paths from the config folder', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'alignkit-guided-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'w2s.yaml');
  writeFileSync(
    file,
    'method: w2s\nmodels:\n  large: http://localhost:8000/v1#big\n  tuned: ./small-tuned\n  untuned: /abs/small\nsettings:\n  beams: 2\n',
  );
  const config = readGuidedConfig(file);
  assert.deepEqual(config.models, {
    large: 'http://localhost:8000/v1#big',
    tuned: resolve(dir, 'small-tuned'),
    untuned: '/abs/small',
  });
  writeFileSync(file, 'method: w2s\nmodels: [1, 2\n');
  assert.throws(() => readGuidedConfig(file), /w2s\.yaml: cannot read the guided-model config/);
});

test('a guided model is served like any model: same seed, same answer as the method run in-process', async (t) => {
  const stories = await loadStories();
  const config = parseGuidedConfig(
    {
      method: 'w2s',
      models: { large: STORIES, tuned: STORIES, untuned: STORIES },
      settings: { beams: 2, successors: 2, chunkLength: 4 },
    },
    'inline',
  );
  const guided = await loadGuidedModel('w2s-stories', config, async () => stories);
  const bon = await loadGuidedModel(
    'bon-vader',
    parseGuidedConfig({ method: 'bon', models: { large: STORIES }, settings: { bonScorer: 'vader', n: 3 } }, 'inline'),
    async () => stories,
  );
  const gateway = await startGateway({
    models: [serveModel('stories', stories), serveModel('w2s', guided), serveModel('bon', bon)],
    port: 0,
  });
  t.after(async () => {
    await gateway.shutdown(1000);
    await stories.dispose();
  });
  const client = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: 'unused', maxRetries: 0 });
  const models = await client.models.list();
  assert.deepEqual(
    models.data.map((m) => [m.id, (m as any).guided]),
    [
      ['stories', false],
      ['w2s', true],
      ['bon', true],
    ],
  );

  const prompt = 'Once upon a time';
  const a = await client.completions.create({ model: 'w2s', prompt, max_tokens: 12, seed: 4 });
  const b = await client.completions.create({ model: 'w2s', prompt, max_tokens: 12, seed: 4 });
  assert.equal(a.choices[0].text, b.choices[0].text);
  const direct = await runSteerMethod('w2s', { large: stories, tuned: stories, untuned: stories }, prompt, {
    maxNewTokens: 12,
    seed: 4,
    beams: 2,
    successors: 2,
    chunkLength: 4,
  });
  assert.equal(a.choices[0].text, direct.text);
  assert.equal(a.usage?.completion_tokens, direct.tokens.length);

  const chat = await client.chat.completions.create({
    model: 'bon',
    messages: [{ role: 'user', content: 'Tell me something happy.' }],
    max_tokens: 10,
    seed: 1,
  });
  assert.equal(typeof chat.choices[0].message.content, 'string');
  let streamed = '';
  for await (const chunk of await client.completions.create({
    model: 'bon',
    prompt,
    max_tokens: 10,
    seed: 2,
    stream: true,
  }))
    streamed += chunk.choices[0]?.text ?? '';
  assert.equal(
    streamed,
    (await client.completions.create({ model: 'bon', prompt, max_tokens: 10, seed: 2 })).choices[0].text,
  );

  const scoring = await postJson(`${gateway.url}/v1/completions`, {
    model: 'w2s',
    prompt,
    max_tokens: 0,
    echo: true,
    logprobs: 0,
  });
  assert.equal(scoring.status, 400);
  assert.equal(scoring.body.error.code, 'unsupported');
  const top = await postJson(`${gateway.url}/v1/completions`, { model: 'w2s', prompt, max_tokens: 3, logprobs: 2 });
  assert.equal(top.status, 400);
  assert.equal(top.body.error.param, 'logprobs');
});

test('guided models stream what their search has settled, say how they stream, and invent no log-probs', async (t) => {
  const stories = await loadStories();
  const guided = (method: string, settings: Record<string, unknown>, models: Record<string, string>) =>
    loadGuidedModel(method, parseGuidedConfig({ method, models, settings }, 'inline'), async () => stories);
  const pair = { large: STORIES, tuned: STORIES, untuned: STORIES };
  const gateway = await startGateway({
    models: [
      // one kept beam: its text is settled after every chunk
      serveModel('w2s', await guided('w2s', { beams: 1, successors: 2, chunkLength: 4 }, pair)),
      serveModel('eft', await guided('eft', {}, pair)),
      serveModel('bon', await guided('bon', { bonScorer: 'vader', n: 2 }, { large: STORIES })),
    ],
    port: 0,
  });
  t.after(async () => {
    await gateway.shutdown(1000);
    await stories.dispose();
  });
  const spec = new SpecRecorder();
  const client = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: 'unused', maxRetries: 0, fetch: spec.fetch });
  const prompt = 'Once upon a time';
  for (const [model, unit, minPieces] of [
    ['w2s', 'chunk', 3],
    ['eft', 'token', 10],
    ['bon', 'whole; best-of-n ranks complete responses', 1],
  ] as const) {
    const whole = await client.completions.create({ model, prompt, max_tokens: 16, seed: 7 });
    const { data: stream, response } = await client.completions
      .create({ model, prompt, max_tokens: 16, seed: 7, stream: true })
      .withResponse();
    assert.ok(response.headers.get('x-alignkit-streaming')?.startsWith(unit), `${model}: ${unit}`);
    const pieces: string[] = [];
    for await (const chunk of stream) {
      const choice = chunk.choices[0];
      if (choice?.text && choice.finish_reason === null) pieces.push(choice.text);
      else if (choice?.text) pieces.push(`(final) ${choice.text}`);
    }
    const text = pieces.map((p) => p.replace(/^\(final\) /, '')).join('');
    assert.equal(text, whole.choices[0].text, model);
    const early = pieces.filter((p) => !p.startsWith('(final)')).length;
    if (unit === 'chunk' || unit === 'token') assert.ok(early >= minPieces, `${model}: ${early} pieces before the end`);
    else assert.equal(early, 0, `${model} cannot stream`);
  }

  const chat = await spec.postJson(`${gateway.url}/v1/chat/completions`, {
    model: 'w2s',
    messages: [{ role: 'user', content: 'Hi' }],
    max_tokens: 4,
    logprobs: true,
  });
  assert.equal(chat.status, 400);
  assert.equal(chat.body.error.code, 'unsupported');
  assert.match(chat.body.error.message, /no per-token log-probs/);
  const completion = await spec.postJson(`${gateway.url}/v1/completions`, {
    model: 'eft',
    prompt,
    max_tokens: 4,
    logprobs: 0,
  });
  assert.equal(completion.status, 400);
  assert.equal(completion.body.error.param, 'logprobs');
  await spec.assertClean();
});
