import { APIConnectionError, APIConnectionTimeoutError, APIError } from 'openai';
import { parseRetryAfter, type FailureClass } from './retry.ts';

/** A non-2xx answer from a route called with plain fetch. */
export class HttpStatusError extends Error {
  constructor(
    readonly status: number,
    readonly body: string,
    readonly headers: Headers,
  ) {
    super(`${status} ${serverMessage(body)}`);
    this.name = 'HttpStatusError';
  }
}

/** A 2xx answer whose body is not the JSON (or not the shape) the route promises. */
export class MalformedResponseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MalformedResponseError';
  }
}

/** A single attempt ran past the per-request timeout. */
export class AttemptTimeoutError extends Error {
  constructor(readonly timeoutMs: number) {
    super(`no answer within ${timeoutMs} ms`);
    this.name = 'AttemptTimeoutError';
  }
}

function serverMessage(body: string): string {
  try {
    const parsed = JSON.parse(body) as { error?: { message?: unknown } | string; message?: unknown; detail?: unknown };
    const candidate =
      typeof parsed.error === 'object' ? parsed.error?.message : (parsed.error ?? parsed.message ?? parsed.detail);
    if (typeof candidate === 'string') return candidate;
  } catch {
    // not JSON: fall through to the raw text
  }
  return body.length > 300 ? body.slice(0, 300) + '…' : body || '(empty body)';
}

const isRetryableStatus = (status: number) =>
  status === 408 || status === 425 || status === 429 || (status >= 500 && status !== 501);

/**
 * How servers say a prompt is too long for the model: OpenAI and alignkit serve with the code
 * `context_length_exceeded`; vLLM "maximum context length", SGLang "context length", llama.cpp
 * "context size".
 */
const CONTEXT_LENGTH = /context_length_exceeded|context (length|size|window)|model's context/i;

function statusFailure(status: number, message: string, headers: Headers | undefined): FailureClass {
  const retryAfterMs = parseRetryAfter(headers?.get('retry-after'));
  return {
    retryable: isRetryableStatus(status),
    retryAfterMs,
    summary: `server answered ${message}`,
    ...((status === 400 || status === 413) && CONTEXT_LENGTH.test(message) ? { contextLength: true } : {}),
  };
}

function connectionCause(error: unknown): string {
  const parts: string[] = [];
  for (let e: any = error; e && parts.length < 4; e = e.cause) {
    const code = typeof e.code === 'string' ? `${e.code}: ` : '';
    if (e.message) parts.push(code + e.message);
  }
  return parts.join(' ← ') || String(error);
}

/** Decides whether a failed attempt (from the openai client or from fetch) is worth retrying. */
export function classifyFailure(error: unknown): FailureClass {
  if (error instanceof AttemptTimeoutError || error instanceof APIConnectionTimeoutError) {
    return { retryable: true, summary: `timed out (${(error as Error).message})` };
  }
  if (error instanceof HttpStatusError) return statusFailure(error.status, error.message, error.headers);
  if (error instanceof APIConnectionError)
    return { retryable: true, summary: `connection failed (${connectionCause(error)})` };
  if (error instanceof APIError && typeof error.status === 'number')
    return statusFailure(error.status, `${error.message} ${error.code ?? ''}`.trim(), error.headers);
  if (error instanceof MalformedResponseError || error instanceof SyntaxError) {
    return { retryable: true, summary: `malformed response (${(error as Error).message})` };
  }
  if (error instanceof TypeError) return { retryable: true, summary: `connection failed (${connectionCause(error)})` };
  return { retryable: false, summary: error instanceof Error ? error.message : String(error) };
}

/** The HTTP status behind a failure (looking through wrapping errors), if it was an HTTP answer. */
export function httpStatusOf(error: unknown): number | undefined {
  for (let e: any = error, depth = 0; e && depth < 5; e = e.cause, depth++) {
    if (e instanceof HttpStatusError) return e.status;
    if (e instanceof APIError && typeof e.status === 'number') return e.status;
  }
  return undefined;
}
