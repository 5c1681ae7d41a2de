import { inputError } from '../../errors.ts';
import type { TokenLogprobs } from '../language-model.ts';
import { missingCapability, type ServerCapabilities } from './capabilities.ts';
import type { HttpTransport } from './transport.ts';

export interface IdScoreItem {
  prefix: readonly number[];
  continuation: readonly number[];
}

export const SCORING_PROVIDERS =
  'echo+logprobs with max_tokens:0 or prompt_logprobs (vLLM), or logprob_start_len on /generate (SGLang)';
const ITEMS_PER_REQUEST = 32;

const finite = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x);

/** Log-probs of the continuation positions from one route's response, one array per item. */
type Extract = (response: any, items: readonly IdScoreItem[]) => number[][];

function expect(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Error(message);
}

const fromEcho: Extract = (response, items) => {
  const choices = [...(response?.choices ?? [])].sort((a, b) => a.index - b.index);
  expect(choices.length === items.length, `expected ${items.length} choices, got ${choices.length}`);
  return items.map((item, i) => {
    const all = choices[i]?.logprobs?.token_logprobs;
    const start = item.prefix.length;
    expect(
      Array.isArray(all) && all.length >= start + item.continuation.length,
      `choice ${i} has no prompt token_logprobs`,
    );
    const lps = all.slice(start, start + item.continuation.length);
    expect(lps.every(finite), `choice ${i} has a non-numeric token logprob`);
    return lps;
  });
};

const fromPromptLogprobs: Extract = (response, items) => {
  const choices = [...(response?.choices ?? [])].sort((a, b) => a.index - b.index);
  expect(choices.length === items.length, `expected ${items.length} choices, got ${choices.length}`);
  return items.map((item, i) => {
    const rows = choices[i]?.prompt_logprobs;
    expect(Array.isArray(rows), `choice ${i} has no prompt_logprobs`);
    return item.continuation.map((token, j) => {
      const lp = rows[item.prefix.length + j]?.[String(token)]?.logprob;
      expect(finite(lp), `choice ${i} has no prompt logprob for token ${token} at position ${item.prefix.length + j}`);
      return lp;
    });
  });
};

const fromSglang: Extract = (response, items) => {
  const results = Array.isArray(response) ? response : [response];
  expect(results.length === items.length, `expected ${items.length} results, got ${results.length}`);
  return items.map((item, i) => {
    const entries = results[i]?.meta_info?.input_token_logprobs;
    expect(
      Array.isArray(entries) && entries.length >= item.continuation.length,
      `result ${i} has no input_token_logprobs`,
    );
    return item.continuation.map((token, j) => {
      const [lp, id] = entries[j] ?? [];
      expect(
        finite(lp) && (id === undefined || id === token),
        `result ${i} position ${j}: expected a logprob for token ${token}`,
      );
      return lp;
    });
  });
};

/**
 * log p(continuation | prefix) per token, through whichever scoring route the server has.
 * Items go in batches of 32 per request, the batches concurrently.
 */
export async function scoreIds(
  transport: HttpTransport,
  model: string,
  caps: ServerCapabilities,
  items: readonly IdScoreItem[],
): Promise<TokenLogprobs[]> {
  if (!caps.scoring || !caps.tokenIdPrompts)
    throw missingCapability('scoring', SCORING_PROVIDERS, transport.urls.apiBase);
  items.forEach((item, i) => {
    if (item.prefix.length === 0)
      throw inputError(
        `score item ${i} has an empty prefix (the first token has no context to be scored in; start it with BOS)`,
      );
  });
  const batches: IdScoreItem[][] = [];
  for (let i = 0; i < items.length; i += ITEMS_PER_REQUEST) batches.push(items.slice(i, i + ITEMS_PER_REQUEST));
  const scored = await Promise.all(batches.map((batch) => scoreBatch(transport, model, caps.scoring!, batch)));
  return scored.flat().map((logprobs, i) => ({
    tokens: [...items[i].continuation],
    logprobs,
    total: logprobs.reduce((a, b) => a + b, 0),
  }));
}

async function scoreBatch(
  transport: HttpTransport,
  model: string,
  route: NonNullable<ServerCapabilities['scoring']>,
  batch: IdScoreItem[],
): Promise<number[][]> {
  const sequences = batch.map((item) => [...item.prefix, ...item.continuation]);
  const extract = route === 'echo' ? fromEcho : route === 'prompt-logprobs' ? fromPromptLogprobs : fromSglang;
  const validate = (response: unknown) => void extract(response, batch);
  const response =
    route === 'echo'
      ? await transport.completions(
          { model, prompt: sequences, max_tokens: 0, echo: true, logprobs: 0, temperature: 0 },
          { validate },
        )
      : route === 'prompt-logprobs'
        ? await transport.completions(
            { model, prompt: sequences, max_tokens: 1, prompt_logprobs: 0, temperature: 0 },
            { validate },
          )
        : await transport.postRoot(
            '/generate',
            {
              input_ids: sequences,
              sampling_params: { max_new_tokens: 0, temperature: 0 },
              return_logprob: true,
              logprob_start_len: batch.map((item) => item.prefix.length),
              top_logprobs_num: 0,
            },
            { validate },
          );
  return extract(response, batch);
}
