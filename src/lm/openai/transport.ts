import OpenAI from 'openai';
import { ConcurrencyLimiter } from './concurrency-limiter.ts';
import { AttemptTimeoutError, HttpStatusError, MalformedResponseError, classifyFailure } from './http-failure.ts';
import { ResponseCache, requestKey } from './response-cache.ts';
import { withRetries } from './retry.ts';
import { serverUrls, type ServerUrls } from './server-urls.ts';

/**
 * How a request's response may be reused:
 * - `deterministic`: equal requests give equal answers (scoring, greedy, seeded sampling);
 *   cached, and concurrent equal requests share one call.
 * - `per-occurrence`: unseeded sampling; the k-th equal request of a process is cached apart
 *   from the others, so draws within a run differ and a re-run replays them at no cost.
 * - `none`: always sent.
 */
export type CachePolicy = 'deterministic' | 'per-occurrence' | 'none';

export interface TransportOptions {
  baseUrl: string;
  apiKey?: string;
  /** on-disk response cache; none when undefined */
  cacheDir?: string;
  /** requests in flight at once (default 8) */
  concurrency?: number;
  /** per-attempt timeout (default 120 s) */
  timeoutMs?: number;
  /** retries after the first attempt (default 4) */
  maxRetries?: number;
  retryBaseDelayMs?: number;
  retryMaxDelayMs?: number;
  random?: () => number;
}

export interface CallOptions {
  cache?: CachePolicy;
  /** throws when the response lacks what the caller needs; the attempt then counts as failed (retried, never cached) */
  validate?: (response: any) => void;
  signal?: AbortSignal;
}

export interface TransportStats {
  /** calls made by callers (cache hits included) */
  requests: number;
  /** HTTP attempts sent over the network (retries included) */
  attempts: number;
  retries: number;
  cacheHits: number;
  /** the delays chosen before the most recent retries (Retry-After or backoff), newest last */
  retryDelaysMs: number[];
}

/**
 * All HTTP traffic of one remote model: response cache → concurrency limit → retries with
 * backoff → per-attempt timeout. The official `openai` client sends the OpenAI routes;
 * plain fetch sends the server-root routes (/tokenize, /generate, …).
 */
export class HttpTransport {
  readonly urls: ServerUrls;
  readonly stats: TransportStats = { requests: 0, attempts: 0, retries: 0, cacheHits: 0, retryDelaysMs: [] };
  private readonly client: OpenAI;
  private readonly limiter: ConcurrencyLimiter;
  private readonly cache?: ResponseCache;
  private readonly pending = new Map<string, Promise<unknown>>();
  private readonly occurrences = new Map<string, number>();
  private readonly timeoutMs: number;

  constructor(private readonly options: TransportOptions) {
    this.urls = serverUrls(options.baseUrl);
    this.timeoutMs = options.timeoutMs ?? 120_000;
    this.limiter = new ConcurrencyLimiter(options.concurrency ?? 8);
    if (options.cacheDir) this.cache = new ResponseCache(options.cacheDir);
    // The server may need no key; the client insists on one, and servers without auth ignore it.
    this.client = new OpenAI({
      baseURL: this.urls.apiBase,
      apiKey: options.apiKey || 'EMPTY',
      maxRetries: 0,
      timeout: this.timeoutMs,
    });
  }

  completions(body: Record<string, unknown>, options: CallOptions = {}): Promise<any> {
    return this.call(`POST ${this.urls.apiBase}/completions`, body, options, (signal) =>
      this.client.completions.create(body as any, { signal, maxRetries: 0, timeout: this.timeoutMs }),
    );
  }

  chatCompletions(body: Record<string, unknown>, options: CallOptions = {}): Promise<any> {
    return this.call(`POST ${this.urls.apiBase}/chat/completions`, body, options, (signal) =>
      this.client.chat.completions.create(body as any, { signal, maxRetries: 0, timeout: this.timeoutMs }),
    );
  }

  /** GET under the API base, e.g. `/models` */
  getApi(path: string, options: CallOptions = {}): Promise<any> {
    return this.call(`GET ${this.urls.apiBase}${path}`, undefined, options, (signal) =>
      this.client.get(path, { signal, maxRetries: 0, timeout: this.timeoutMs }),
    );
  }

  /** POST a JSON body to a route at the server root (vLLM/SGLang `/tokenize`, SGLang `/generate`) */
  postRoot(path: string, body: Record<string, unknown>, options: CallOptions = {}): Promise<any> {
    const url = this.urls.root + path;
    return this.call(`POST ${url}`, body, options, (signal) => this.fetchJson(url, body, signal));
  }

  /**
   * A value computed once per request description and kept in the response cache (e.g. the
   * probed capabilities, so that a re-run sends nothing).
   */
  async remember<T>(description: unknown, compute: () => Promise<T>): Promise<T> {
    const key = requestKey({ remember: description });
    const hit = this.cache?.get(key);
    if (hit !== undefined) return hit as T;
    const value = await compute();
    this.cache?.put(key, description, value);
    return value;
  }

  private async fetchJson(url: string, body: unknown, signal: AbortSignal): Promise<unknown> {
    const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json' };
    if (this.options.apiKey) headers.authorization = `Bearer ${this.options.apiKey}`;
    const response = await fetch(url, { method: 'POST', headers, body: JSON.stringify(body), signal });
    const text = await response.text();
    if (!response.ok) throw new HttpStatusError(response.status, text, response.headers);
    try {
      return JSON.parse(text);
    } catch (e) {
      throw new MalformedResponseError(`${(e as Error).message} in ${text.length} bytes from ${url}`);
    }
  }

  private call(
    what: string,
    body: unknown,
    options: CallOptions,
    send: (signal: AbortSignal) => Promise<unknown>,
  ): Promise<any> {
    this.stats.requests++;
    const policy = options.cache ?? 'deterministic';
    const request = { route: what, body };
    let key = requestKey(request);
    if (policy === 'per-occurrence') {
      const occurrence = this.occurrences.get(key) ?? 0;
      this.occurrences.set(key, occurrence + 1);
      key = requestKey({ ...request, occurrence });
    }
    if (policy !== 'none' && this.cache) {
      const hit = this.cache.get(key);
      if (hit !== undefined) {
        this.stats.cacheHits++;
        return Promise.resolve(hit);
      }
    }
    if (policy === 'deterministic') {
      const shared = this.pending.get(key);
      if (shared) return shared;
    }
    const promise = this.limiter
      .run(() => this.sendWithRetries(what, options, send))
      .then((response) => {
        if (policy !== 'none') this.cache?.put(key, request, response);
        return response;
      });
    if (policy === 'deterministic') {
      this.pending.set(key, promise);
      const forget = () => this.pending.delete(key);
      promise.then(forget, forget);
    }
    return promise;
  }

  private sendWithRetries(
    what: string,
    options: CallOptions,
    send: (signal: AbortSignal) => Promise<unknown>,
  ): Promise<unknown> {
    return withRetries(
      what,
      async () => {
        this.stats.attempts++;
        const response = await this.attemptWithTimeout(send, options.signal);
        if (options.validate) {
          try {
            options.validate(response);
          } catch (e) {
            throw new MalformedResponseError((e as Error).message);
          }
        }
        return response;
      },
      classifyFailure,
      {
        maxRetries: this.options.maxRetries ?? 4,
        baseDelayMs: this.options.retryBaseDelayMs,
        maxDelayMs: this.options.retryMaxDelayMs,
        random: this.options.random,
        signal: options.signal,
        onRetry: ({ delayMs }) => {
          this.stats.retries++;
          this.stats.retryDelaysMs.push(delayMs);
          if (this.stats.retryDelaysMs.length > 100) this.stats.retryDelaysMs.shift();
        },
      },
    );
  }

  private async attemptWithTimeout(
    send: (signal: AbortSignal) => Promise<unknown>,
    callerSignal?: AbortSignal,
  ): Promise<unknown> {
    const timeout = new AbortController();
    const timer = setTimeout(() => timeout.abort(new AttemptTimeoutError(this.timeoutMs)), this.timeoutMs);
    const signal = callerSignal ? AbortSignal.any([callerSignal, timeout.signal]) : timeout.signal;
    try {
      return await send(signal);
    } catch (error) {
      if (timeout.signal.aborted && !callerSignal?.aborted) throw timeout.signal.reason;
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }
}
