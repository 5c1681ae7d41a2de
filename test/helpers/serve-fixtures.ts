import type { LanguageModel } from '../../src/lm/language-model.ts';
import { loadModel } from '../../src/lm/load.ts';
import { startGateway, type Gateway, type GatewayOptions } from '../../src/serve/http-server.ts';
import { serveModel } from '../../src/serve/served-model.ts';

export const STORIES = 'data/stories260K/stories260K.bin';
export const STORIES_TOKENIZER = 'data/stories260K/tok512.bin';

export function loadStories(): Promise<LanguageModel> {
  return loadModel(STORIES, { tokenizer: STORIES_TOKENIZER });
}

type After = { after: (fn: () => Promise<void> | void) => void };

/** stories260K (in this process) behind a gateway on a free loopback port; both go away after the test. */
export async function storiesGateway(
  t: After,
  options: Partial<GatewayOptions> = {},
): Promise<{ gateway: Gateway; model: LanguageModel }> {
  const model = await loadStories();
  const gateway = await startGateway({ models: [serveModel('stories', model)], port: 0, ...options });
  t.after(async () => {
    await gateway.shutdown(1000);
    await model.dispose();
  });
  return { gateway, model };
}

export type PostAnswer = { status: number; body: any; headers: Headers; text: string };

/** POSTs a JSON body (or a raw string); the status, the parsed answer (or its text) and the headers. */
export function postJson(url: string, body: unknown, headers: Record<string, string> = {}): Promise<PostAnswer> {
  return postJsonWith(fetch, url, body, headers);
}

/** postJson through a given fetch (e.g. one that checks answers against the specification). */
export async function postJsonWith(
  fetchFn: typeof fetch,
  url: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<PostAnswer> {
  const response = await fetchFn(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await response.text();
  let parsed: any = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    /* keep the text */
  }
  return { status: response.status, body: parsed, headers: response.headers, text };
}

/**
 * A gateway whose model "slow" never answers until the test ends (stories260K beside it as
 * "stories" when asked), for timeouts; everything goes away after the test.
 */
export async function stalledGateway(
  t: After,
  requestTimeoutMs: number,
  options: { withStories?: boolean } = {},
): Promise<Gateway> {
  const native = await loadStories();
  const stalled = stalledModel(native);
  const models = [serveModel('slow', stalled.model), ...(options.withStories ? [serveModel('stories', native)] : [])];
  const gateway = await startGateway({ models, port: 0, limits: { requestTimeoutMs } });
  t.after(async () => {
    stalled.release();
    await gateway.shutdown(1000);
    await native.dispose();
  });
  return gateway;
}

/**
 * Fault injection: the model answers `sample` only when `release()` is called (a stalled
 * backend, for timeouts), and has no full distributions, so requests bypass the batcher.
 */
export function stalledModel(model: LanguageModel): { model: LanguageModel; release: () => void } {
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  return {
    release,
    model: {
      id: `${model.id} (stalled)`,
      tokenizer: model.tokenizer,
      capabilities: { ...model.capabilities, fullLogits: false },
      eosIds: model.eosIds,
      get usage() {
        return model.usage;
      },
      sample: async () => {
        await released;
        return [];
      },
      score: model.score?.bind(model),
      open: model.open?.bind(model),
      dispose: async () => release(),
    },
  };
}
