import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DecodeState, LanguageModel } from '../src/lm/language-model.ts';
import { loadModel } from '../src/lm/load.ts';
import { loadRandomInitTwin } from '../src/lm/load.ts';
import { builtinAttributes } from '../src/probe/builtin-attributes.ts';
import { collectRepresentations, type CollectOptions } from '../src/probe/collect.ts';
import type { PromptItem } from '../src/probe/prompt-data.ts';
import { RepresentationStore } from '../src/probe/representation-store.ts';

const MODEL = 'data/stories260K/stories260K.bin';
const TOKENIZER = 'data/stories260K/tok512.bin';

const prompts = [
  'Once upon a time, there was a',
  'Tom and his dog',
  'The sun was hot and',
  'Lily wanted to',
  'One day, a big bird',
  'Sam had a red ball',
  'Mom said no.',
];
const items: PromptItem[] = prompts.map((prompt, i) => ({ id: `p${i}`, line: i + 1, prompt, fields: {} }));

let model: LanguageModel;
let dir: string;
before(async () => {
  model = await loadModel(MODEL, { tokenizer: TOKENIZER });
  dir = mkdtempSync(join(tmpdir(), 'probe-collect-'));
});
after(async () => {
  await model?.dispose();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const options = (out: string, over: Partial<CollectOptions> = {}): CollectOptions => ({
  model,
  items,
  out,
  attributes: builtinAttributes().resolve(['length', 'character'], []),
  maxNewTokens: 40,
  timeline: [4, 16],
  batchSize: 3,
  layers: [0, 2, 5],
  ...over,
});

/** Counts the model's prefills (open calls) and hidden-state passes. */
function counting(inner: LanguageModel, withoutAppendHidden = false) {
  const counts = { open: 0, hiddenStates: 0 };
  const wrapped: LanguageModel = Object.create(inner);
  wrapped.open = async (prefixes, opts) => {
    counts.open++;
    const state = await inner.open!(prefixes, opts);
    return withoutAppendHidden ? plainState(state) : state;
  };
  wrapped.hiddenStates = async (req) => {
    counts.hiddenStates++;
    return inner.hiddenStates!(req);
  };
  return { model: wrapped, counts };
}

/** A decode state offering only the LanguageModel interface (as a remote backend would). */
function plainState(state: DecodeState): DecodeState {
  return {
    get size() {
      return state.size;
    },
    prefixHidden: state.prefixHidden,
    tokens: (i) => state.tokens(i),
    nextLogprobs: () => state.nextLogprobs(),
    append: (c) => state.append(c),
    fork: (idx) => plainState(state.fork(idx)),
    close: () => state.close(),
  };
}

test('states come from the generation prefill and match an independent forward pass', async () => {
  const out = join(dir, 'main');
  const { model: spied, counts } = counting(model);
  const result = await collectRepresentations(options(out, { model: spied }));
  assert.equal(result.items, items.length);
  assert.equal(counts.open, Math.ceil(items.length / 3), 'one prefill per batch of prompts, nothing else');
  assert.equal(counts.hiddenStates, 0);
  assert.equal(result.extraPrefills, 0);

  const store = RepresentationStore.open(out);
  assert.deepEqual(store.meta.groups, ['prompt', 'after-4', 'after-16']);
  const stored = store.items();
  for (const [i, item] of stored.entries()) {
    const promptIds = model.tokenizer.encode(item.prompt);
    assert.equal(item.promptTokens, promptIds.length);
    const [greedy] = await model.sample({ prompt: item.prompt, maxNewTokens: 40, temperature: 0 });
    const text = greedy.text;
    // the native sampler stops at EOS only; collection also stops at BOS (a new llama2.c story)
    assert.ok(text.startsWith(item.response), `item ${i}: "${item.response}" vs sample "${text}"`);
    assert.equal(item.attributes.length, item.responseTokens);
    const responseIds = greedy.tokens;
    for (const layer of [0, 2, 5]) {
      const [expected] = await model.hiddenStates!({ sequences: [promptIds], layers: [layer] });
      const got = store.readLayer('prompt', layer);
      for (let j = 0; j < got.cols; j++)
        assert.ok(Math.abs(got.data[i * got.cols + j] - expected[j]) < 1e-4, `prompt state, item ${i}, layer ${layer}`);
      for (const t of [4, 16]) {
        const reached = item.timeline?.[String(t)];
        const after = store.readLayer(`after-${t}`, layer);
        if (!reached) {
          assert.ok(item.responseTokens < t);
          assert.ok(after.data.subarray(i * after.cols, (i + 1) * after.cols).every((v) => v === 0));
          continue;
        }
        assert.equal(
          reached.length,
          item.responseTokens - t,
          'the length label after t tokens is the remaining length',
        );
        const [afterExpected] = await model.hiddenStates!({
          sequences: [[...promptIds, ...responseIds.slice(0, t)]],
          layers: [layer],
        });
        for (let j = 0; j < after.cols; j++)
          assert.ok(
            Math.abs(after.data[i * after.cols + j] - afterExpected[j]) < 1e-4,
            `after-${t}, item ${i}, layer ${layer}`,
          );
      }
    }
  }
});

test('a backend without states on append gets the timeline states from one extra prefill each, equal to the in-loop ones', async () => {
  const { model: plain } = counting(model, true);
  const result = await collectRepresentations(options(join(dir, 'plain'), { model: plain }));
  const expectedExtra = RepresentationStore.open(join(dir, 'plain'))
    .items()
    .reduce((n, it) => n + Object.keys(it.timeline ?? {}).length, 0);
  assert.equal(result.extraPrefills, expectedExtra);
  const a = RepresentationStore.open(join(dir, 'main')),
    b = RepresentationStore.open(join(dir, 'plain'));
  for (const group of ['prompt', 'after-4', 'after-16']) {
    const x = a.readLayer(group, 2).data,
      y = b.readLayer(group, 2).data;
    for (let k = 0; k < x.length; k++) assert.ok(Math.abs(x[k] - y[k]) < 1e-4, `${group}[${k}]`);
  }
});

test('a collection killed mid-run resumes to the same store as an uninterrupted one', async () => {
  const out = join(dir, 'resumed');
  let batches = 0;
  await assert.rejects(
    collectRepresentations(
      options(out, {
        onProgress: () => {
          if (++batches === 2) throw new Error('killed');
        }, // called at the start and after each batch
      }),
    ),
    /killed/,
  );
  assert.equal(RepresentationStore.open(out).items().length, 3, 'one batch of 3 written before the kill');
  appendFileSync(join(out, 'results.jsonl'), '{"index":3,"id":"p3","pro');
  await assert.rejects(collectRepresentations(options(out)), /already holds collected items; pass --resume/);
  await assert.rejects(
    collectRepresentations(options(out, { resume: true, maxNewTokens: 30, timeline: [4] })),
    /--resume with different settings/,
  );
  const result = await collectRepresentations(options(out, { resume: true }));
  assert.equal(result.resumed, 3);
  assert.equal(result.collected, items.length - 3);
  assert.equal(
    readFileSync(join(out, 'results.jsonl'), 'utf8'),
    readFileSync(join(dir, 'main', 'results.jsonl'), 'utf8'),
  );
  for (const group of ['prompt', 'after-16'])
    assert.deepEqual(
      readFileSync(join(out, 'states', group, 'layer-5.bin')),
      readFileSync(join(dir, 'main', 'states', group, 'layer-5.bin')),
    );
});

test('sampling is reproducible with a seed and independent of the batch size; float16 and the random-init control', async () => {
  const twin = await loadRandomInitTwin(MODEL, TOKENIZER, 0);
  try {
    const base = { temperature: 1, seed: 7, timeline: [], dtype: 'float16' as const, randomInitModel: twin };
    await collectRepresentations(options(join(dir, 's1'), { ...base, batchSize: 2 }));
    await collectRepresentations(options(join(dir, 's2'), { ...base, batchSize: 5 }));
    const a = RepresentationStore.open(join(dir, 's1')),
      b = RepresentationStore.open(join(dir, 's2'));
    assert.deepEqual(
      a.items().map((i) => i.response),
      b.items().map((i) => i.response),
    );
    const greedy = RepresentationStore.open(join(dir, 'main'))
      .items()
      .map((i) => i.response);
    assert.notDeepEqual(
      a.items().map((i) => i.response),
      greedy,
      'temperature 1 samples differ from greedy',
    );
    assert.deepEqual(a.meta.groups, ['prompt', 'random-init']);
    const real = a.readLayer('prompt', 5),
      random = a.readLayer('random-init', 5);
    assert.equal(random.rows, items.length);
    assert.ok(
      real.data.some((v, k) => Math.abs(v - random.data[k]) > 1e-3),
      "random-init states differ from the model's",
    );
    // layer 0 is the embedding row of the last prompt token: the twin's has the 0.02 init scale
    const emb = a.readLayer('random-init', 0);
    const rms = Math.sqrt(emb.data.reduce((s, v) => s + v * v, 0) / emb.data.length);
    assert.ok(rms > 0.01 && rms < 0.04, `random embedding rms ${rms}`);
  } finally {
    await twin.dispose();
  }
});
