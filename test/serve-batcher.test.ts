import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { LanguageModel } from '../src/lm/language-model.ts';
import { type ChoiceResult, ContinuousBatcher, type GenerationRequest } from '../src/serve/continuous-batcher.ts';
import { loadModel } from '../src/lm/load.ts';
import { TextStream } from '../src/serve/text-stream.ts';
import { loadStories, STORIES, STORIES_TOKENIZER } from './helpers/serve-fixtures.ts';

let model: LanguageModel;
before(async () => {
  model = await loadStories();
});
after(async () => {
  await model?.dispose();
});

const request = (prompt: string, extra: Partial<GenerationRequest> = {}): GenerationRequest => ({
  prompt: model.tokenizer.encode(prompt),
  n: 1,
  maxNewTokens: 12,
  sampling: { temperature: 1 },
  stop: [],
  topLogprobs: 0,
  ...extra,
});

test('requests batched together give what the model samples for each alone (same seeds)', async () => {
  const batcher = new ContinuousBatcher(model, new Set(model.eosIds));
  const specs = [
    { prompt: 'Once upon a time', n: 2, seed: 5 },
    { prompt: 'The dog', n: 1, seed: 6, sampling: { temperature: 0.7, topP: 0.9 } },
    { prompt: 'Lily was', n: 3, seed: 7, sampling: { temperature: 0 } },
  ];
  const batched = await Promise.all(specs.map(({ prompt, ...rest }) => batcher.generate(request(prompt, rest))));
  assert.ok(
    batcher.stats.maxBatch === 6,
    `expected all 6 sequences in one batch, saw at most ${batcher.stats.maxBatch}`,
  );
  for (const [i, s] of specs.entries()) {
    const alone = await model.sample({
      prompt: s.prompt,
      n: s.n,
      seed: s.seed,
      maxNewTokens: 12,
      ...(s.sampling ?? { temperature: 1 }),
    });
    assert.deepEqual(
      batched[i].map((c) => c.tokens),
      alone.map((c) => c.tokens),
      `request ${i}`,
    );
    assert.deepEqual(
      batched[i].map((c) => c.finishReason),
      alone.map((c) => c.finishReason),
    );
    batched[i].forEach((c) => assert.equal(c.logprobs.length, c.tokens.length));
  }
});

test('a request that arrives while others run joins the batch between steps', async () => {
  const batcher = new ContinuousBatcher(model, new Set(model.eosIds));
  let joined!: Promise<unknown>;
  const late = { prompt: 'Tom had a', seed: 12 };
  const first = batcher.generate(
    request('Once upon a time', {
      seed: 11,
      maxNewTokens: 30,
      onToken: (e) => {
        if (e.choice === 0 && !joined) joined = batcher.generate(request(late.prompt, { seed: late.seed }));
      },
    }),
  );
  const [a] = await first;
  const [b] = (await joined) as Awaited<typeof first>;
  assert.equal(batcher.stats.maxBatch, 2);
  assert.deepEqual(
    a.tokens,
    (await model.sample({ prompt: 'Once upon a time', seed: 11, maxNewTokens: 30 }))[0].tokens,
  );
  assert.deepEqual(
    b.tokens,
    (await model.sample({ prompt: late.prompt, seed: late.seed, maxNewTokens: 12 }))[0].tokens,
  );
});

for (const runtime of ['wasm', 'onnxruntime'] as const)
  test(`rows that leave and join a running batch in place keep every request's greedy text (${runtime})`, async () => {
    const local = await loadModel(STORIES, { tokenizer: STORIES_TOKENIZER, runtime });
    try {
      const batcher = new ContinuousBatcher(local, new Set(local.eosIds));
      const prompts = [
        'Once upon a time',
        'The dog',
        'Lily was',
        'Tom had a',
        'One day',
        'The sun',
        'A little',
        'She saw',
      ];
      const lengths = [60, 4, 17, 9, 25, 2, 12, 20];
      // request i starts when the first has generated startAt[i] tokens: the batch churns, and
      // the last one runs on with a short row after the long first one leaves (a narrower cache)
      const startAt = [0, 1, 2, 3, 4, 5, 6, 50];
      const started: Promise<ChoiceResult[]>[] = [];
      const start = (i: number, onToken?: GenerationRequest['onToken']): void => {
        started[i] = batcher.generate({
          ...request(prompts[i], { maxNewTokens: lengths[i], sampling: { temperature: 0 } }),
          prompt: local.tokenizer.encode(prompts[i]),
          onToken,
        });
      };
      let generated = 0;
      start(0, () => {
        generated++;
        for (let i = 1; i < prompts.length; i++) if (startAt[i] === generated) start(i);
      });
      while (started.length < prompts.length) await started[started.length - 1];
      const batched = await Promise.all(started);
      assert.ok(batcher.stats.maxBatch >= 3, `rows overlapped (at most ${batcher.stats.maxBatch} at once)`);
      for (const [i, prompt] of prompts.entries()) {
        const [alone] = await local.sample({ prompt, maxNewTokens: lengths[i], temperature: 0 });
        assert.deepEqual(batched[i][0].tokens, alone.tokens, `request ${i} ("${prompt}")`);
      }
    } finally {
      await local.dispose();
    }
  });

test('top alternatives and streamed deltas: the deltas spell the text', async () => {
  const batcher = new ContinuousBatcher(model, new Set(model.eosIds));
  let streamed = '';
  const [r] = await batcher.generate(
    request('Once', {
      sampling: { temperature: 0 },
      topLogprobs: 3,
      maxNewTokens: 15,
      onToken: (e) => (streamed += e.delta),
    }),
  );
  assert.equal(streamed + r.tail, r.text);
  assert.ok(r.text.startsWith(' '), 'the continuation keeps its leading space');
  r.top.forEach((top, i) => {
    assert.equal(top.length, 3);
    assert.equal(top[0][0], r.tokens[i], 'greedy picks the most likely token');
    assert.equal(top[0][1], r.logprobs[i]);
  });
});

test('a stop string ends a sequence, the text cut before it', async () => {
  const batcher = new ContinuousBatcher(model, new Set(model.eosIds));
  const [free] = await batcher.generate(
    request('Once upon a time', { sampling: { temperature: 0 }, maxNewTokens: 30 }),
  );
  const stop = ' little';
  assert.ok(free.text.includes(stop));
  const [stopped] = await batcher.generate(
    request('Once upon a time', { sampling: { temperature: 0 }, maxNewTokens: 30, stop: [stop] }),
  );
  assert.equal(stopped.finishReason, 'stop');
  assert.equal(stopped.stopString, stop);
  assert.equal(stopped.text, free.text.slice(0, free.text.indexOf(stop)));
  assert.ok(stopped.tokens.length < free.tokens.length);
});

test('cancelling one request drops its sequences; the others finish unchanged', async () => {
  const batcher = new ContinuousBatcher(model, new Set(model.eosIds));
  const controller = new AbortController();
  let seen = 0;
  const cancelled = batcher.generate(
    request('Once upon a time', {
      maxNewTokens: 40,
      seed: 1,
      signal: controller.signal,
      onToken: () => {
        if (++seen === 3) controller.abort(new Error('client left'));
      },
    }),
  );
  const kept = batcher.generate(request('The dog', { maxNewTokens: 20, seed: 2 }));
  await assert.rejects(cancelled, /client left/);
  const [k] = await kept;
  assert.deepEqual(k.tokens, (await model.sample({ prompt: 'The dog', seed: 2, maxNewTokens: 20 }))[0].tokens);
  assert.ok(batcher.stats.decodedTokens < 40 + 20, 'the cancelled sequence kept decoding');
  assert.deepEqual(batcher.load, { activeSequences: 0, waitingRequests: 0 });
});

test('TextStream holds back partial characters and possible stop strings', () => {
  const tok = model.tokenizer;
  const ids = tok.encode('Je bois un café noir', { addBos: false });
  const stream = new TextStream(tok, [' noir'], tok.encode('Le matin', { addBos: true }));
  let out = '';
  for (let i = 1; i <= ids.length; i++) {
    const delta = stream.update(ids.slice(0, i));
    assert.ok(!delta.includes('\ufffd'), `a partial character was sent: ${JSON.stringify(delta)}`);
    out += delta;
    assert.ok(!(out + '').endsWith(' n') || stream.stoppedBy !== null, 'a possible stop prefix was sent');
  }
  out += stream.flush();
  assert.equal(stream.stoppedBy, ' noir');
  assert.equal(out, ' Je bois un café');
  assert.equal(stream.text, out);

  const bytes = tok.encode('日本', { addBos: false });
  const s2 = new TextStream(tok, []);
  const deltas = bytes.map((_, i) => s2.update(bytes.slice(0, i + 1)));
  assert.ok(deltas.every((d) => !d.includes('\ufffd')));
  assert.equal(deltas.join('') + s2.flush(), tok.decode(bytes));
});
