import { test } from 'node:test';
import assert from 'node:assert/strict';
import { postJson, storiesGateway } from './helpers/serve-fixtures.ts';

const CLIENTS = 32;
const REQUESTS_PER_CLIENT = 20;
const PROMPTS = ['Once upon a time', 'The little dog', 'Lily and Tom went', 'One day, a bird'];
const SEEDS = [11, 22, 33];

/**
 * A bounded load test on loopback: 32 concurrent clients × 20 requests (greedy generation,
 * echo scoring and seeded sampling mixed) against the gateway's continuous batcher. Every
 * response must be a 200 and equal what the model computes in-process for that request alone.
 */
test('32 concurrent clients × 20 requests: zero errors, every response correct', async (t) => {
  const { gateway, model } = await storiesGateway(t);
  const url = `${gateway.url}/v1/completions`;
  const ids = PROMPTS.map((p) => model.tokenizer.encode(p));
  const greedy = await Promise.all(
    ids.map(async (prompt) => (await model.sample({ prompt, maxNewTokens: 8, temperature: 0 }))[0].tokens),
  );
  const scores = await model.score!(
    ids.map((prompt) => ({ prefix: prompt.slice(0, 1), continuation: prompt.slice(1) })),
  );
  const seeded = await Promise.all(
    SEEDS.map(
      async (seed) => (await model.sample({ prompt: ids[0], maxNewTokens: 6, seed, temperature: 1 }))[0].tokens,
    ),
  );

  const failures: string[] = [];
  let checked = 0;
  const client = async (c: number) => {
    for (let k = 0; k < REQUESTS_PER_CLIENT; k++) {
      const p = (c + k) % PROMPTS.length;
      const kind = (c * 7 + k) % 3;
      const body =
        kind === 0
          ? { model: 'stories', prompt: ids[p], max_tokens: 8, temperature: 0, return_token_ids: true }
          : kind === 1
            ? { model: 'stories', prompt: ids[p], max_tokens: 0, echo: true, logprobs: 0 }
            : {
                model: 'stories',
                prompt: ids[0],
                max_tokens: 6,
                seed: SEEDS[k % SEEDS.length],
                return_token_ids: true,
              };
      const r = await postJson(url, body);
      if (r.status !== 200) {
        failures.push(`client ${c} request ${k}: ${r.status} ${JSON.stringify(r.body)}`);
        continue;
      }
      const choice = r.body.choices[0];
      if (kind === 0) assert.deepEqual(choice.token_ids, greedy[p], `client ${c} request ${k}: greedy tokens`);
      else if (kind === 1) {
        const got = choice.logprobs.token_logprobs.slice(1);
        assert.equal(got.length, scores[p].logprobs.length);
        got.forEach((lp: number, i: number) =>
          assert.ok(
            Math.abs(lp - scores[p].logprobs[i]) < 1e-4,
            `client ${c} request ${k}: score ${lp} vs ${scores[p].logprobs[i]}`,
          ),
        );
      } else assert.deepEqual(choice.token_ids, seeded[k % SEEDS.length], `client ${c} request ${k}: seeded tokens`);
      checked++;
    }
  };
  await Promise.all(Array.from({ length: CLIENTS }, (_, c) => client(c)));
  assert.deepEqual(failures, []);
  assert.equal(checked, CLIENTS * REQUESTS_PER_CLIENT);
  const stats = gateway.models.get('stories').batcher!.stats;
  assert.ok(stats.maxBatch > 1, 'concurrent requests were never batched together');
  assert.equal(gateway.stats().byStatus[200], CLIENTS * REQUESTS_PER_CLIENT);
});
