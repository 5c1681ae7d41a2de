/**
 * The AI SDK provider through the real `ai` package: generateText and streamText on the embedded
 * models (native and a guided weak-to-strong search), stop sequences, seeds, abort signals,
 * finish reasons and usage as the SDK reports them, and bad configurations.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateText, streamText } from 'ai';
import { createAlignkit } from '../src/ai-sdk/index.ts';
import { EMBEDDED_MODELS } from '../src/api/models.ts';
import { loadModel } from '../src/lm/load.ts';
import { AlignkitError } from '../src/errors.ts';

const provider = createAlignkit();
after(() => provider.close());
const large = provider(EMBEDDED_MODELS.large);
const W2S = {
  method: 'w2s',
  models: { large: EMBEDDED_MODELS.large, tuned: EMBEDDED_MODELS.small, untuned: EMBEDDED_MODELS.small },
  settings: { beams: 2, successors: 2, chunkLength: 4 },
};

async function streamed(result: ReturnType<typeof streamText>): Promise<string[]> {
  const parts: string[] = [];
  for await (const delta of result.textStream) parts.push(delta);
  return parts;
}

test('generateText on a native model: the in-process sample for the same seed, usage and finish reason', async () => {
  const r = await generateText({ model: large, prompt: 'Once upon a time', maxOutputTokens: 12, seed: 7 });
  const model = await loadModel(EMBEDDED_MODELS.large);
  try {
    const ids = model.tokenizer.encode('Once upon a time', { addBos: true });
    const [direct] = await model.sample({ prompt: ids, maxNewTokens: 12, temperature: 1, seed: 7 });
    // the provider runs the gateway's batcher; its sampling matches the model's own for one sequence
    assert.equal(r.text, direct.text);
    assert.equal(r.usage.inputTokens, ids.length);
    assert.equal(r.usage.outputTokens, direct.tokens.length);
  } finally {
    await model.dispose();
  }
  assert.equal(r.finishReason, r.usage.outputTokens === 12 ? 'length' : 'stop');
  const again = await generateText({ model: large, prompt: 'Once upon a time', maxOutputTokens: 12, seed: 7 });
  assert.equal(again.text, r.text, 'same seed, same text');
  const other = await generateText({ model: large, prompt: 'Once upon a time', maxOutputTokens: 12, seed: 8 });
  assert.notEqual(other.text, r.text, 'another seed, another text');
});

test('streamText: deltas spell the generateText text for the same seed; finish and usage arrive', async () => {
  const whole = await generateText({ model: large, prompt: 'The dog', maxOutputTokens: 16, seed: 3 });
  const s = streamText({ model: large, prompt: 'The dog', maxOutputTokens: 16, seed: 3 });
  const parts = await streamed(s);
  assert.ok(parts.length > 1, `streamed per token, got ${parts.length} part(s)`);
  assert.equal(parts.join(''), whole.text);
  assert.equal(await s.finishReason, whole.finishReason);
  assert.equal((await s.usage).outputTokens, whole.usage.outputTokens);
});

test('stop sequences end the text before the stop, with finish reason stop (raw "stop")', async () => {
  const free = await generateText({ model: large, prompt: 'Once upon a time', maxOutputTokens: 40, seed: 1 });
  const word = free.text.split(' ').filter((w) => w.length > 2)[2];
  assert.ok(word, free.text);
  const cut = await generateText({
    model: large,
    prompt: 'Once upon a time',
    maxOutputTokens: 40,
    seed: 1,
    stopSequences: [word],
  });
  assert.equal(cut.text, free.text.slice(0, free.text.indexOf(word)));
  assert.equal(cut.finishReason, 'stop');
  assert.equal(cut.rawFinishReason, 'stop');
  const s = streamText({
    model: large,
    prompt: 'Once upon a time',
    maxOutputTokens: 40,
    seed: 1,
    stopSequences: [word],
  });
  assert.equal((await streamed(s)).join(''), cut.text, 'a streamed stop never leaks');
});

test('a guided weak-to-strong search (as `serve --guided` takes it): generateText and streamText, seeded', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'alignkit-ai-sdk-'));
  try {
    const file = join(dir, 'w2s.json');
    writeFileSync(file, JSON.stringify(W2S));
    const fromFile = provider.guided(file);
    const fromObject = provider.guided(W2S);
    const a = await generateText({ model: fromFile, prompt: 'Once upon a time', maxOutputTokens: 12, seed: 5 });
    const b = await generateText({ model: fromObject, prompt: 'Once upon a time', maxOutputTokens: 12, seed: 5 });
    assert.ok(a.text.length > 0);
    assert.equal(b.text, a.text, 'file and object configure the same search; same seed, same text');
    const s = streamText({ model: fromObject, prompt: 'Once upon a time', maxOutputTokens: 12, seed: 5 });
    assert.equal((await streamed(s)).join(''), a.text);
    assert.ok(['stop', 'length'].includes(await s.finishReason));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('an abort signal stops generateText and streamText', async () => {
  const controller = new AbortController();
  const pending = generateText({
    model: large,
    prompt: 'Once',
    maxOutputTokens: 100_000,
    abortSignal: controller.signal,
  });
  setTimeout(() => controller.abort(), 30);
  await assert.rejects(pending, (e: Error) => e.name === 'AbortError');

  const streamAbort = new AbortController();
  let aborted = false;
  const s = streamText({
    model: large,
    prompt: 'Once',
    maxOutputTokens: 100_000,
    abortSignal: streamAbort.signal,
    onAbort: () => {
      aborted = true;
    },
  });
  let parts = 0;
  for await (const _ of s.textStream) if (++parts === 3) streamAbort.abort();
  assert.ok(aborted, 'onAbort was called');
  assert.ok(parts < 50, `the stream stopped soon after the abort (${parts} parts)`);
});

test('unsupported call settings are warnings; files in the prompt are refused', async () => {
  const r = await generateText({ model: large, prompt: 'Hi', maxOutputTokens: 2, presencePenalty: 0.5 });
  assert.ok(r.warnings?.some((w) => w.type === 'unsupported' && w.feature === 'presencePenalty'));
  await assert.rejects(
    generateText({
      model: large,
      messages: [{ role: 'user', content: [{ type: 'file', data: new Uint8Array([1]), mediaType: 'image/png' }] }],
    }),
    /only text reaches an alignkit model/,
  );
});

test('bad models, guided configurations and settings: one-line errors naming what is wrong', () => {
  const named = (fn: () => unknown, pattern: RegExp) =>
    assert.throws(
      fn,
      (e: unknown) => e instanceof AlignkitError && pattern.test(e.message) && !e.message.includes('\n'),
    );
  named(() => provider('no/such/model'), /no\/such\/model: model not found/);
  named(() => provider.guided({ ...W2S, method: 'beam' }), /field "method": must be one of .*w2s/);
  named(() => provider.guided({ ...W2S, settings: { beams: 0 } }), /settings\.beams expects a positive integer, got 0/);
  named(() => provider.guided({ method: 'w2s', models: { large: EMBEDDED_MODELS.large } }), /models\.tuned/);
  named(() => provider.guided('missing.yaml'), /missing\.yaml: cannot read the guided-model config/);
  named(
    () => createAlignkit({ promptFormat: 'html' as 'chat' }),
    /"promptFormat" expects one of auto, chat, text, got "html"/,
  );
  named(() => createAlignkit({ defaultMaxOutputTokens: 0 }), /"defaultMaxOutputTokens" expects a positive integer/);
  named(() => createAlignkit({ tokenzier: 'x' } as object), /unknown setting "tokenzier"/);
});
