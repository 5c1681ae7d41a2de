/**
 * The library API (src/index.ts): the steering functions on the embedded models agree with the
 * steering registry the CLI runs, trainers and the gateway run from options objects, bad options
 * fail with the CLI's one-line errors naming the option, and the generated option interfaces
 * match the specifications they are checked against.
 */
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AlignkitError,
  EMBEDDED_MODELS,
  bestOfN,
  eft,
  emulatedDisalignment,
  ivg,
  loadModel,
  sample,
  serve,
  steerRun,
  trainDpo,
  trainSft,
  weakToStrongSearch,
  evaluateConceptMath,
  collectProbeData,
  type LanguageModel,
} from '../src/index.ts';
import { runSteerMethod } from '../src/decode/steer-methods/index.ts';
import { run as cli } from '../src/cli/main.ts';
import { OPTION_TYPES_FILE, optionTypesSource } from '../scripts/api-option-types.ts';
import { writeRandomLlama } from './helpers/random-models.ts';
import { STORIES_TOKENIZER } from './helpers/model-wrappers.ts';

const dir = mkdtempSync(join(tmpdir(), 'alignkit-api-'));
let large: LanguageModel, small: LanguageModel;
before(async () => {
  large = await loadModel(EMBEDDED_MODELS.large);
  small = await loadModel(EMBEDDED_MODELS.small);
});
after(async () => {
  await large?.dispose();
  await small?.dispose();
  rmSync(dir, { recursive: true, force: true });
});

const write = (name: string, lines: unknown[]) => {
  const path = join(dir, name);
  writeFileSync(path, lines.map((l) => (typeof l === 'string' ? l : JSON.stringify(l))).join('\n') + '\n');
  return path;
};

/** The message of the AlignkitError `fn` throws (or rejects with); it must be one line. */
async function errorOf(fn: () => unknown): Promise<string> {
  try {
    await fn();
  } catch (e) {
    assert.ok(e instanceof AlignkitError, `expected an AlignkitError, got ${e}`);
    assert.ok(!e.message.includes('\n'), e.message);
    return e.message;
  }
  assert.fail('expected an error');
}

test('src/api/option-types.ts is what `npm run api:types` writes from the option specifications', async () => {
  assert.equal(readFileSync(OPTION_TYPES_FILE, 'utf8'), await optionTypesSource(), 'run `npm run api:types`');
});

test('weakToStrongSearch on the embedded models is the registry method the CLI runs, defaults filled', async () => {
  const models = { large, tuned: small, untuned: small };
  const options = { maxNewTokens: 12, seed: 4, beams: 2, successors: 2, chunkLength: 4 };
  const viaApi = await weakToStrongSearch(models, 'Once upon a time', options);
  const direct = await runSteerMethod('w2s', models, 'Once upon a time', {
    ...options,
    temperature: 0.7, // the steer command's defaults, which the API fills in
    topK: 50,
    topP: 1,
    stop: [],
  });
  assert.equal(viaApi.method, 'w2s');
  assert.ok(viaApi.text.length > 0);
  assert.equal(viaApi.text, direct.text);
  assert.deepEqual(viaApi.tokens, direct.tokens);
});

test('every steering function runs on the embedded models; each needs its roles', async () => {
  const pair = { large, tuned: small, untuned: small };
  const o = { maxNewTokens: 6, seed: 2 };
  for (const [name, result] of [
    ['sample', await sample({ large }, 'The cat', o)],
    ['bon', await bestOfN(pair, 'The cat', { ...o, n: 2 })],
    ['eft', await eft(pair, 'The cat', o)],
    ['ed', await emulatedDisalignment({ large, base: large, aligned: small }, 'The cat', o)],
  ] as const) {
    assert.equal(result.method, name);
    assert.ok(result.tokens.length > 0 && result.tokens.length <= 6, `${name}: ${result.tokens.length} tokens`);
  }
  assert.match(await errorOf(() => ivg(pair, 'The cat', o)), /ivg needs a value model/);
  assert.match(await errorOf(() => eft({ large }, 'The cat', o)), /eft needs --tuned and --untuned/);
  assert.match(await errorOf(() => sample({} as never, 'x')), /sample expects its models as \{ large/);
});

test('bad options: the CLI error for the same flag, naming the option by its key', async () => {
  const model = join(dir, 'tiny');
  writeRandomLlama(model, {
    vocabSize: 512,
    hiddenSize: 8,
    numLayers: 1,
    numHeads: 2,
    numKvHeads: 1,
    intermediateSize: 8,
  });
  const data = write('pairs.jsonl', [{ prompt: 'Tom', chosen: ' ran.', rejected: ' sat.' }]);
  const base = { model, tokenizer: STORIES_TOKENIZER, data, out: join(dir, 'dpo') };
  const apiMessage = await errorOf(() => trainDpo({ ...base, beta: 0 }));
  assert.equal(apiMessage, '"beta" expects a positive number, got 0');
  const cliError = await errorOf(() =>
    cli(['train', 'dpo', '--model', model, '--data', data, '--out', base.out, '--beta', '0']),
  );
  // the CLI got the text "0", the API the number 0; the rest of the message is the same
  assert.equal(cliError.replace('--beta', '"beta"').replace('got "0"', 'got 0'), apiMessage);
  assert.equal(
    await errorOf(() => weakToStrongSearch({ large, tuned: small, untuned: small }, 'x', { beams: 1.5 })),
    '"beams" expects a positive integer, got 1.5',
  );
  assert.match(
    await errorOf(() => sample({ large }, 'x', { tempreature: 1 } as object)),
    /^unknown option "tempreature" \(expected one of: "maxNewTokens", /,
  );
  assert.equal(await errorOf(() => trainSft({ data, out: base.out } as never)), 'missing required option "model"');
  assert.equal(await errorOf(() => trainSft('model' as never)), 'trainSft expects an options object, got model');
  assert.equal(
    await errorOf(() => evaluateConceptMath({ out: base.out, prompt: 'cot' as 'zs' })),
    '"prompt" expects one of zs, zs-cot, fs, got "cot"',
  );
  assert.match(
    await errorOf(() =>
      collectProbeData({ model: [model], data, attributes: ['length'], out: base.out, batchSize: 0 }),
    ),
    /^"batchSize" expects/,
  );
  assert.match(
    await errorOf(() => loadModel(EMBEDDED_MODELS.small, { tokeniser: 'x' } as object)),
    /^unknown option "tokeniser"/,
  );
  assert.equal(existsSync(base.out), false, 'nothing was written');
});

test('trainSft from an options object writes the run folder the CLI writes; progress reaches the callback', async () => {
  const model = join(dir, 'tiny-sft');
  writeRandomLlama(model, {
    vocabSize: 512,
    hiddenSize: 8,
    numLayers: 1,
    numHeads: 2,
    numKvHeads: 1,
    intermediateSize: 8,
  });
  const data = write('sft.jsonl', [
    { prompt: 'Tom had a ball.', completion: ' He was happy.' },
    { prompt: 'The sun was out.', completion: ' They played.' },
  ]);
  const seen: string[] = [];
  const result = await trainSft({
    model,
    tokenizer: STORIES_TOKENIZER,
    data,
    out: join(dir, 'sft'),
    steps: 2,
    batchSize: 1,
    onData: (s) => seen.push(`${s.examples} examples`),
  });
  assert.equal(result.steps, 2);
  assert.deepEqual(seen, ['2 examples']);
  assert.ok(existsSync(join(dir, 'sft', 'model', 'config.json')));
  assert.ok(existsSync(result.reportPath));
});

test('steerRun runs `steer compare` from options: every method on every prompt of the file', async () => {
  const prompts = write('prompts.txt', ['Once upon a time', 'The dog']);
  const result = await steerRun({
    compare: ['sample', 'w2s'],
    large: EMBEDDED_MODELS.large,
    tuned: EMBEDDED_MODELS.small,
    untuned: EMBEDDED_MODELS.small,
    prompts,
    maxNewTokens: 6,
    beams: 2,
    successors: 2,
    out: join(dir, 'steer'),
  });
  assert.equal(result.records.length, 4);
  assert.deepEqual([...new Set(result.records.map((r) => r.method))].sort(), ['sample', 'w2s']);
  assert.ok(existsSync(result.reportPath));
});

test('serve: the gateway over a loaded model and a guided configuration, answering the OpenAI routes', async () => {
  const gateway = await serve({
    port: 0,
    models: { story: small },
    guided: {
      happy: {
        method: 'w2s',
        models: { large: EMBEDDED_MODELS.large, tuned: EMBEDDED_MODELS.small, untuned: EMBEDDED_MODELS.small },
        settings: { beams: 2, successors: 2 },
      },
    },
  });
  try {
    const models = (await (await fetch(`${gateway.url}/v1/models`)).json()) as { data: { id: string }[] };
    assert.deepEqual(models.data.map((m) => m.id).sort(), ['happy', 'story']);
    for (const model of ['story', 'happy']) {
      const r = await fetch(`${gateway.url}/v1/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model, prompt: 'Once upon a time', max_tokens: 5, seed: 1 }),
      });
      const body = (await r.json()) as { choices: { text: string }[] };
      assert.equal(r.status, 200, JSON.stringify(body));
      assert.ok(body.choices[0].text.length > 0);
    }
  } finally {
    await gateway.close();
  }
  assert.match(
    await errorOf(() => serve({ port: 70_000, models: { story: small } })),
    /^"port" expects an integer in \[0, 65535\], got 70000/,
  );
  assert.match(await errorOf(() => serve({ port: 0 })), /nothing to serve/);
});
