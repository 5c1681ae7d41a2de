import { AlignkitError } from '../../errors.ts';
import { httpStatusOf } from './http-failure.ts';
import type { HttpTransport } from './transport.ts';

/** What one model on one server can do, found by probing its routes once. */
export interface ServerCapabilities {
  /** context length the server reports (vLLM/SGLang `max_model_len`) */
  maxContext?: number;
  /** vocabulary facts some servers (the alignkit gateway) list with the model */
  vocab?: { size: number; bosId: number | null; eosId: number | null };
  /** `/tokenize` and `/detokenize` at the server root (vLLM, SGLang, alignkit) */
  tokenize: boolean;
  detokenize: boolean;
  /** `/tokenize` takes `messages` and renders the chat template (vLLM, alignkit) */
  chatTokenize: boolean;
  /** `/v1/completions` takes `prompt: number[]` */
  tokenIdPrompts: boolean;
  /** how a given continuation is scored: echo+logprobs+max_tokens:0 or prompt_logprobs (vLLM), logprob_start_len (SGLang) */
  scoring: 'echo' | 'prompt-logprobs' | 'sglang-generate' | null;
  /** how many top next-token log-probs come back with token ids (0 = none) */
  topLogprobs: number;
  /** where those top-k come from: `/v1/completions` with `return_tokens_as_token_ids` (vLLM) or SGLang `/generate` */
  topLogprobsRoute: 'completions' | 'sglang-generate' | null;
  /** `/v1/completions` returns `choices[i].token_ids` when asked with `return_token_ids` (vLLM) */
  returnTokenIds: boolean;
  /** SGLang's native `/generate` */
  sglangGenerate: boolean;
}

/** A capability the server lacks, with the server features that would provide it. */
export function missingCapability(what: string, providers: string, server: string): AlignkitError {
  return new AlignkitError('capability', `${what} needs ${providers}; the server at ${server} offers none of them`);
}

const PROBE_TEXT = 'Once upon a time';
const PROBE_TOP_K = 1000;

/**
 * Sends a probe; a 4xx answer means "not supported" (undefined), any other failure
 * (unreachable server, 5xx after retries) is thrown.
 */
async function probe<T>(
  call: () => Promise<any>,
  check: (response: any) => T | undefined,
): Promise<{ value?: T; error?: unknown }> {
  try {
    return { value: check(await call()) };
  } catch (error) {
    const status = httpStatusOf(error);
    if (status === 401 || status === 403) {
      throw new AlignkitError(
        'backend',
        `the server refused the credentials (${status}): put its API key in the environment variable named by --api-key-env (default OPENAI_API_KEY)`,
        {},
        { cause: error },
      );
    }
    if (status !== undefined && status >= 400 && status < 500) return { error };
    throw error;
  }
}

const isIdList = (v: unknown): v is number[] => Array.isArray(v) && v.length > 0 && v.every((x) => Number.isInteger(x));

/** vLLM: "… greater than max allowed: 20"; others word it differently, so several patterns. */
export function logprobLimitFrom(message: string): number | undefined {
  const m =
    /max(?:imum)?(?: allowed)?(?: is)?:?\s*(\d+)/i.exec(message) ??
    /(?:at most|less than or equal to|<=)\s*(\d+)/i.exec(message);
  return m ? Number(m[1]) : undefined;
}

export async function probeCapabilities(transport: HttpTransport, model: string): Promise<ServerCapabilities> {
  const caps: ServerCapabilities = {
    tokenize: false,
    detokenize: false,
    chatTokenize: false,
    tokenIdPrompts: false,
    scoring: null,
    topLogprobs: 0,
    topLogprobsRoute: null,
    returnTokenIds: false,
    sglangGenerate: false,
  };
  const server = transport.urls.apiBase;

  const listing = await probe(
    () => transport.getApi('/models'),
    (r) => (Array.isArray(r?.data) ? (r.data as any[]) : undefined),
  );
  if (listing.value) {
    const entry = listing.value.find((m) => m?.id === model);
    if (!entry) {
      const names = listing.value
        .map((m) => m?.id)
        .filter(Boolean)
        .join(', ');
      throw new AlignkitError(
        'input',
        `model "${model}" is not served at ${server} (it serves: ${names || 'nothing'})`,
      );
    }
    if (Number.isInteger(entry.max_model_len)) caps.maxContext = entry.max_model_len;
    if (Number.isInteger(entry.vocab_size)) {
      caps.vocab = { size: entry.vocab_size, bosId: entry.bos_token_id ?? null, eosId: entry.eos_token_id ?? null };
    }
  }

  const tokenized = await probe(
    () => transport.postRoot('/tokenize', { model, prompt: PROBE_TEXT, add_special_tokens: true }),
    (r) => (isIdList(r?.tokens) ? { tokens: r.tokens as number[], maxModelLen: r.max_model_len } : undefined),
  );
  let ids = [1, 2, 3];
  if (tokenized.value) {
    caps.tokenize = true;
    ids =
      tokenized.value.tokens.length >= 2
        ? tokenized.value.tokens
        : [...tokenized.value.tokens, ...tokenized.value.tokens];
    if (caps.maxContext === undefined && Number.isInteger(tokenized.value.maxModelLen))
      caps.maxContext = tokenized.value.maxModelLen;
    caps.detokenize = !!(
      await probe(
        () => transport.postRoot('/detokenize', { model, tokens: ids }),
        (r) => (typeof r?.prompt === 'string' ? true : undefined),
      )
    ).value;
    caps.chatTokenize = !!(
      await probe(
        () =>
          transport.postRoot('/tokenize', {
            model,
            messages: [{ role: 'user', content: PROBE_TEXT }],
            add_generation_prompt: true,
          }),
        (r) => (isIdList(r?.tokens) ? true : undefined),
      )
    ).value;
  }

  caps.tokenIdPrompts = !!(
    await probe(
      () => transport.completions({ model, prompt: ids, max_tokens: 1, temperature: 0 }),
      (r) => (Array.isArray(r?.choices) ? true : undefined),
    )
  ).value;

  caps.sglangGenerate = !!(
    await probe(
      () =>
        transport.postRoot('/generate', {
          input_ids: ids,
          sampling_params: { max_new_tokens: 0, temperature: 0 },
          return_logprob: true,
          logprob_start_len: 1,
          top_logprobs_num: 0,
        }),
      (r) => (Array.isArray(r?.meta_info?.input_token_logprobs) ? true : undefined),
    )
  ).value;

  if (caps.tokenIdPrompts) {
    const echo = await probe(
      () => transport.completions({ model, prompt: ids, max_tokens: 0, echo: true, logprobs: 0, temperature: 0 }),
      (r) => (r?.choices?.[0]?.logprobs?.token_logprobs?.length >= ids.length ? true : undefined),
    );
    if (echo.value) caps.scoring = 'echo';
    else {
      const promptLogprobs = await probe(
        () => transport.completions({ model, prompt: ids, max_tokens: 1, prompt_logprobs: 0, temperature: 0 }),
        (r) => (r?.choices?.[0]?.prompt_logprobs?.length === ids.length ? true : undefined),
      );
      if (promptLogprobs.value) caps.scoring = 'prompt-logprobs';
      else if (caps.sglangGenerate) caps.scoring = 'sglang-generate';
    }

    caps.returnTokenIds = !!(
      await probe(
        () => transport.completions({ model, prompt: ids, max_tokens: 1, temperature: 0, return_token_ids: true }),
        (r) => (Array.isArray(r?.choices?.[0]?.token_ids) ? true : undefined),
      )
    ).value;

    const topK = await probeTopLogprobs(transport, model, ids);
    if (topK > 0) {
      caps.topLogprobs = topK;
      caps.topLogprobsRoute = 'completions';
    } else if (caps.sglangGenerate) {
      const sglangTopK = await probe(
        () =>
          transport.postRoot('/generate', {
            input_ids: ids,
            sampling_params: { max_new_tokens: 1, temperature: 1 },
            return_logprob: true,
            top_logprobs_num: PROBE_TOP_K,
            logprob_start_len: ids.length - 1,
          }),
        (r) =>
          Array.isArray(r?.meta_info?.output_top_logprobs?.[0])
            ? (r.meta_info.output_top_logprobs[0].length as number)
            : undefined,
      );
      if (sglangTopK.value) {
        caps.topLogprobs = sglangTopK.value;
        caps.topLogprobsRoute = 'sglang-generate';
      }
    }
  }
  return caps;
}

/** Asks for many top log-probs with token ids; a refusal usually states the server's limit. */
async function probeTopLogprobs(transport: HttpTransport, model: string, ids: number[]): Promise<number> {
  const countIdKeyed = (r: any): number | undefined => {
    const top = r?.choices?.[0]?.logprobs?.top_logprobs?.[0];
    if (!top || typeof top !== 'object') return undefined;
    const keys = Object.keys(top);
    return keys.length > 0 && keys.every((k) => /^token_id:\d+$/.test(k)) ? keys.length : undefined;
  };
  const ask = (k: number) =>
    probe(
      () =>
        transport.completions({
          model,
          prompt: ids,
          max_tokens: 1,
          temperature: 0,
          logprobs: k,
          return_tokens_as_token_ids: true,
        }),
      countIdKeyed,
    );
  const first = await ask(PROBE_TOP_K);
  if (first.value) return first.value;
  const stated = first.error ? logprobLimitFrom((first.error as Error).message) : undefined;
  for (const k of [stated, 20, 5].filter((k): k is number => k !== undefined && k > 0)) {
    const retry = await ask(k);
    if (retry.value) return retry.value;
  }
  return 0;
}

const probed = new Map<string, Promise<ServerCapabilities>>();

/** Probes once per (server, model) per process; later calls share the answer. */
export function serverCapabilities(transport: HttpTransport, model: string): Promise<ServerCapabilities> {
  const key = `${transport.urls.apiBase}#${model}`;
  let entry = probed.get(key);
  if (!entry) {
    entry = transport.remember({ capabilities: 1, server: transport.urls.apiBase, model }, () =>
      probeCapabilities(transport, model),
    );
    probed.set(key, entry);
    entry.catch(() => probed.delete(key));
  }
  return entry;
}
