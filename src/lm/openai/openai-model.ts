import { inputError } from '../../errors.ts';
import { loadTokenizer } from '../../tokenizers/load-tokenizer.ts';
import type { Tokenizer } from '../../tokenizers/tokenizer.ts';
import {
  emptyUsage,
  type Capabilities,
  type DecodeState,
  type FinishReason,
  type LanguageModel,
  type OptionalCapability,
  type Prompt,
  type Sample,
  type SampleRequest,
  type ScoreItem,
  type TokenLogprobs,
  type Usage,
} from '../language-model.ts';
import { parseModelRef } from '../model-ref.ts';
import { missingCapability, serverCapabilities, type ServerCapabilities } from './capabilities.ts';
import { HttpDecodeState, TOP_K_PROVIDERS } from './http-decode-state.ts';
import { RemoteTokenizer, UnavailableTokenizer } from './remote-tokenizer.ts';
import { SCORING_PROVIDERS, scoreIds, type IdScoreItem } from './scoring.ts';
import { SyncHttpClient } from './sync-http.ts';
import { HttpTransport, type CachePolicy, type TransportStats } from './transport.ts';

export interface OpenAIModelOptions {
  /** environment variable holding the API key (default OPENAI_API_KEY; unset = no key) */
  apiKeyEnv?: string;
  /** a local tokenizer (path or loaded) to use instead of the server's /tokenize */
  tokenizer?: string | Tokenizer;
  /** on-disk response cache directory (none when undefined) */
  cacheDir?: string;
  /** requests in flight at once (default 8) */
  concurrency?: number;
  /** per-request timeout in ms (default 120 000) */
  timeoutMs?: number;
  /** retries after a failed attempt (default 4) */
  maxRetries?: number;
  /** base of the exponential backoff in ms (default 250); tests make it small */
  retryBaseDelayMs?: number;
}

export interface ChatRequest {
  messages: readonly { role: string; content: string }[];
  n?: number;
  maxNewTokens: number;
  temperature?: number;
  topP?: number;
  stop?: readonly string[];
  seed?: number;
  /** top alternatives per generated token (0 = only the token's own log-prob) */
  topLogprobs?: number;
  logprobs?: boolean;
}

export interface ChatTokenLogprob {
  token: string;
  logprob: number;
  topLogprobs: { token: string; logprob: number }[];
}

export interface ChatResult {
  text: string;
  finishReason: FinishReason;
  logprobs?: ChatTokenLogprob[];
}

const isDeterministic = (temperature: number | undefined, seed: number | undefined) =>
  temperature === 0 || seed !== undefined;
const cachePolicy = (temperature: number | undefined, seed: number | undefined): CachePolicy =>
  isDeterministic(temperature, seed) ? 'deterministic' : 'per-occurrence';

/** OpenAI's finish_reason plus vLLM's stop_reason (the matched stop string, null at EOS). */
function finishReason(reason: unknown, stopReason: unknown): FinishReason {
  if (reason === 'length') return 'length';
  return typeof stopReason === 'string' ? 'stop' : 'eos';
}

const TOKEN_ID_KEY = /^token_id:(\d+)$/;

/**
 * A model behind an OpenAI-compatible server (vLLM, SGLang, llama.cpp, OpenAI, alignkit
 * serve), reached through HttpTransport (cache, concurrency limit, retries, timeouts).
 */
export class OpenAICompatibleModel implements LanguageModel {
  readonly capabilities: Capabilities;
  readonly usage: Usage = emptyUsage();
  readonly eosIds: readonly number[];
  /** present when the server scores prompts (echo + logprobs, prompt_logprobs or logprob_start_len) */
  readonly score?: (items: readonly ScoreItem[]) => Promise<TokenLogprobs[]>;
  /** present when the server gives top-k next-token log-probs with token ids */
  readonly open?: (prefixes: readonly (readonly number[])[]) => Promise<DecodeState>;
  readonly missing: Partial<Record<OptionalCapability, string>> = {};

  constructor(
    readonly id: string,
    readonly tokenizer: Tokenizer,
    private readonly transport: HttpTransport,
    private readonly modelName: string,
    readonly server: ServerCapabilities,
    private readonly localTokenizer: boolean,
    private readonly syncHttp?: SyncHttpClient,
  ) {
    this.capabilities = {
      fullLogits: false,
      topLogprobs: server.tokenIdPrompts ? server.topLogprobs : 0,
      scoring: server.scoring !== null && server.tokenIdPrompts,
      hiddenStates: false,
      tokenIds: server.tokenIdPrompts,
      maxContext: server.maxContext ?? Number.POSITIVE_INFINITY,
    };
    const eos = server.vocab?.eosId ?? tokenizer.eosId;
    this.eosIds = eos === null ? [] : [eos];
    const offers = `the server at ${this.where} offers none of them`;
    if (this.capabilities.scoring) this.score = (items) => this.scoreItems(items);
    else this.missing.scoring = `${SCORING_PROVIDERS}; ${offers}`;
    if (this.capabilities.topLogprobs > 0) this.open = async (prefixes) => this.openStates(prefixes);
    else this.missing.decoding = `${TOP_K_PROVIDERS}; ${offers}`;
  }

  /** Calls made, retries and cache hits so far. */
  get stats(): TransportStats {
    return this.transport.stats;
  }

  private get where(): string {
    return this.transport.urls.apiBase;
  }

  private addUsage(usage: any): void {
    const prompt = Number(usage?.prompt_tokens) || 0;
    const generated = Number(usage?.completion_tokens) || 0;
    this.usage.promptTokens += prompt;
    this.usage.generatedTokens += generated;
    this.usage.processedTokens += prompt + generated;
  }

  /** Token ids of a text, through the local tokenizer or the server's /tokenize. */
  async tokenize(text: string, options: { addSpecialTokens?: boolean } = {}): Promise<number[]> {
    const addSpecial = options.addSpecialTokens ?? true;
    if (this.localTokenizer) return this.tokenizer.encode(text, { addBos: addSpecial });
    if (!this.server.tokenize) return this.tokenizer.encode(text); // throws the capability error
    const r = await this.transport.postRoot(
      '/tokenize',
      { model: this.modelName, prompt: text, add_special_tokens: addSpecial },
      {
        validate: (r) => {
          if (!Array.isArray(r?.tokens)) throw new Error('no "tokens" array');
        },
      },
    );
    return r.tokens;
  }

  async detokenize(ids: readonly number[]): Promise<string> {
    if (this.localTokenizer || !this.server.detokenize) return this.tokenizer.decode(ids);
    const r = await this.transport.postRoot(
      '/detokenize',
      { model: this.modelName, tokens: [...ids] },
      {
        validate: (r) => {
          if (typeof r?.prompt !== 'string') throw new Error('no "prompt" string');
        },
      },
    );
    return r.prompt;
  }

  private async ids(prompt: Prompt, addSpecialTokens: boolean): Promise<number[]> {
    return typeof prompt === 'string' ? this.tokenize(prompt, { addSpecialTokens }) : [...prompt];
  }

  private serverPrompt(prompt: Prompt): string | number[] {
    if (typeof prompt === 'string') return prompt;
    if (!this.server.tokenIdPrompts)
      throw missingCapability(
        'a prompt given as token ids',
        'token-id prompts on /v1/completions (vLLM, SGLang, llama.cpp)',
        this.where,
      );
    return [...prompt];
  }

  async sample(req: SampleRequest): Promise<Sample[]> {
    const n = req.n ?? 1;
    if (!Number.isInteger(n) || n < 1) throw inputError(`n must be a positive integer, got ${n}`, { field: 'n' });
    const temperature = req.temperature ?? 1;
    // without return_token_ids, servers that name tokens "token_id:N" in logprobs still give the ids
    const wantIdsFromLogprobs = !this.server.returnTokenIds && this.server.topLogprobsRoute === 'completions';
    const body: Record<string, unknown> = {
      model: this.modelName,
      prompt: this.serverPrompt(req.prompt),
      n,
      max_tokens: req.maxNewTokens,
      temperature,
      top_p: req.topP,
      top_k: req.topK && req.topK > 0 ? req.topK : undefined,
      stop: req.stop?.length ? [...req.stop] : undefined,
      seed: req.seed,
      logprobs: req.logprobs || wantIdsFromLogprobs ? 0 : undefined,
      return_token_ids: this.server.returnTokenIds || undefined,
      return_tokens_as_token_ids: wantIdsFromLogprobs || undefined,
    };
    const validate = (r: any) => {
      if (!Array.isArray(r?.choices) || r.choices.length !== n) throw new Error(`expected ${n} choices`);
      if (r.choices.some((c: any) => typeof c?.text !== 'string')) throw new Error('a choice has no text');
    };
    const response = await this.transport.completions(body, { cache: cachePolicy(temperature, req.seed), validate });
    this.addUsage(response.usage);
    return [...response.choices]
      .sort((a: any, b: any) => a.index - b.index)
      .map((choice: any): Sample => {
        const lp = choice.logprobs;
        let tokens: number[] = Array.isArray(choice.token_ids) ? choice.token_ids : [];
        if (
          !tokens.length &&
          Array.isArray(lp?.tokens) &&
          lp.tokens.every((t: unknown) => typeof t === 'string' && TOKEN_ID_KEY.test(t))
        ) {
          tokens = lp.tokens.map((t: string) => Number(TOKEN_ID_KEY.exec(t)![1]));
        }
        const sample: Sample = {
          text: choice.text,
          tokens,
          finishReason: finishReason(choice.finish_reason, choice.stop_reason),
        };
        if (req.logprobs && Array.isArray(lp?.token_logprobs)) sample.logprobs = lp.token_logprobs.map(Number);
        return sample;
      });
  }

  private async scoreItems(items: readonly ScoreItem[]): Promise<TokenLogprobs[]> {
    const idItems = await Promise.all(items.map((item) => this.scoreItemIds(item)));
    const scored = await scoreIds(this.transport, this.modelName, this.server, idItems);
    const tokens = idItems.reduce((sum, item) => sum + item.prefix.length + item.continuation.length, 0);
    this.usage.promptTokens += tokens;
    this.usage.processedTokens += tokens;
    return scored;
  }

  /**
   * A text continuation is tokenized together with its text prefix and split where the prefix's
   * own tokens end, so it gets the tokens it has in context (as the native backend does).
   */
  private async scoreItemIds(item: ScoreItem): Promise<IdScoreItem> {
    const prefix = await this.ids(item.prefix, true);
    if (typeof item.continuation !== 'string') return { prefix, continuation: [...item.continuation] };
    if (typeof item.prefix !== 'string')
      return { prefix, continuation: await this.tokenize(item.continuation, { addSpecialTokens: false }) };
    const whole = await this.tokenize(item.prefix + item.continuation, { addSpecialTokens: true });
    let shared = 0;
    while (shared < prefix.length && whole[shared] === prefix[shared]) shared++;
    const cut = Math.max(shared, 1);
    return { prefix: whole.slice(0, cut), continuation: whole.slice(cut) };
  }

  private openStates(prefixes: readonly (readonly number[])[]): DecodeState {
    return HttpDecodeState.open(
      { transport: this.transport, model: this.modelName, caps: this.server, vocabSize: this.tokenizer.vocabSize },
      prefixes,
    );
  }

  /** Chat completions (the server renders its chat template). */
  async chat(req: ChatRequest): Promise<ChatResult[]> {
    const n = req.n ?? 1;
    const logprobs = req.logprobs || (req.topLogprobs ?? 0) > 0;
    const body: Record<string, unknown> = {
      model: this.modelName,
      messages: req.messages.map((m) => ({ role: m.role, content: m.content })),
      n,
      max_tokens: req.maxNewTokens,
      temperature: req.temperature ?? 1,
      top_p: req.topP,
      stop: req.stop?.length ? [...req.stop] : undefined,
      seed: req.seed,
      logprobs: logprobs || undefined,
      top_logprobs: logprobs ? (req.topLogprobs ?? 0) : undefined,
    };
    const validate = (r: any) => {
      if (!Array.isArray(r?.choices) || r.choices.length !== n) throw new Error(`expected ${n} choices`);
      if (r.choices.some((c: any) => typeof c?.message?.content !== 'string'))
        throw new Error('a choice has no message content');
    };
    const response = await this.transport.chatCompletions(body, {
      cache: cachePolicy(req.temperature ?? 1, req.seed),
      validate,
    });
    this.addUsage(response.usage);
    return [...response.choices]
      .sort((a: any, b: any) => a.index - b.index)
      .map((choice: any): ChatResult => {
        const result: ChatResult = {
          text: choice.message.content,
          finishReason: finishReason(choice.finish_reason, choice.stop_reason),
        };
        if (logprobs && Array.isArray(choice.logprobs?.content)) {
          result.logprobs = choice.logprobs.content.map((c: any) => ({
            token: c.token,
            logprob: c.logprob,
            topLogprobs: (c.top_logprobs ?? []).map((t: any) => ({ token: t.token, logprob: t.logprob })),
          }));
        }
        return result;
      });
  }

  async dispose(): Promise<void> {
    this.syncHttp?.close();
  }
}

/**
 * Connects to `BASE_URL#MODEL_NAME`, probes what the server can do (once per server and
 * model) and returns it as a LanguageModel.
 */
export async function createOpenAIModel(ref: string, options: OpenAIModelOptions = {}): Promise<OpenAICompatibleModel> {
  const parsed = parseModelRef(ref);
  if (parsed.kind !== 'openai')
    throw inputError(`"${ref}" is not a remote model reference (expected BASE_URL#MODEL_NAME)`);
  const apiKeyEnv = options.apiKeyEnv ?? 'OPENAI_API_KEY';
  const apiKey = process.env[apiKeyEnv] || undefined;
  if (options.apiKeyEnv && !apiKey)
    throw inputError(`environment variable ${apiKeyEnv} (named by --api-key-env) is not set`);
  const timeoutMs = options.timeoutMs ?? 120_000;
  const maxRetries = options.maxRetries ?? 4;
  const transport = new HttpTransport({
    baseUrl: parsed.baseUrl,
    apiKey,
    cacheDir: options.cacheDir,
    concurrency: options.concurrency,
    timeoutMs,
    maxRetries,
    retryBaseDelayMs: options.retryBaseDelayMs,
  });
  const server = await serverCapabilities(transport, parsed.model);
  const id = `${parsed.baseUrl}#${parsed.model}`;
  if (options.tokenizer !== undefined) {
    const tokenizer = typeof options.tokenizer === 'string' ? loadTokenizer(options.tokenizer) : options.tokenizer;
    return new OpenAICompatibleModel(id, tokenizer, transport, parsed.model, server, true);
  }
  if (server.tokenize && server.detokenize) {
    const syncHttp = new SyncHttpClient({ apiKey, timeoutMs, maxRetries });
    const tokenizer = new RemoteTokenizer(syncHttp, transport.urls.root, parsed.model, {
      vocabSize: server.vocab?.size ?? 0,
      bosId: server.vocab?.bosId ?? null,
      eosId: server.vocab?.eosId ?? null,
      chatTemplate: server.chatTokenize,
    });
    return new OpenAICompatibleModel(id, tokenizer, transport, parsed.model, server, false, syncHttp);
  }
  return new OpenAICompatibleModel(
    id,
    new UnavailableTokenizer(transport.urls.apiBase),
    transport,
    parsed.model,
    server,
    false,
  );
}
