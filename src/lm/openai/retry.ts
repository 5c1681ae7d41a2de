import { AlignkitError, ContextLengthError } from '../../errors.ts';

/** How a failed attempt should be handled. */
export interface FailureClass {
  retryable: boolean;
  /** the server's Retry-After, when it sent one */
  retryAfterMs?: number;
  /** one line describing the failure, for the final error */
  summary: string;
  /** the server said the prompt does not fit the model's context */
  contextLength?: boolean;
}

export interface RetryOptions {
  /** retries after the first attempt */
  maxRetries: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** longest Retry-After that is honoured as given (longer ones are capped to this) */
  maxRetryAfterMs?: number;
  signal?: AbortSignal;
  /** uniform [0,1); injectable for tests */
  random?: () => number;
  onRetry?: (info: { attempt: number; delayMs: number; failure: FailureClass }) => void;
}

/** Full-jitter exponential backoff: uniform in [0, min(max, base·2^attempt)]. */
export function backoffDelayMs(attempt: number, baseDelayMs: number, maxDelayMs: number, random: () => number): number {
  return Math.floor(random() * Math.min(maxDelayMs, baseDelayMs * 2 ** attempt));
}

/** Parses an HTTP Retry-After value (delta seconds or an HTTP date) into milliseconds. */
export function parseRetryAfter(value: string | null | undefined, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Runs `attempt` until it succeeds, a failure is not retryable, or the retries are spent.
 * The delay before retry i is the server's Retry-After when given, else full-jitter backoff.
 */
export async function withRetries<T>(
  what: string,
  attempt: (attemptIndex: number) => Promise<T>,
  classify: (error: unknown) => FailureClass,
  options: RetryOptions,
): Promise<T> {
  const {
    maxRetries,
    baseDelayMs = 250,
    maxDelayMs = 20_000,
    maxRetryAfterMs = 60_000,
    signal,
    random = Math.random,
  } = options;
  for (let i = 0; ; i++) {
    try {
      return await attempt(i);
    } catch (error) {
      if (signal?.aborted) throw error;
      if (error instanceof AlignkitError) throw error;
      const failure = classify(error);
      if (failure.contextLength) throw new ContextLengthError(`${what}: ${failure.summary}`, { cause: error });
      if (!failure.retryable) throw new AlignkitError('backend', `${what}: ${failure.summary}`, {}, { cause: error });
      if (i >= maxRetries) {
        throw new AlignkitError(
          'backend',
          `${what} failed after ${i + 1} attempt${i ? 's' : ''}: ${failure.summary}`,
          {},
          { cause: error },
        );
      }
      const delayMs =
        failure.retryAfterMs !== undefined
          ? Math.min(failure.retryAfterMs, maxRetryAfterMs)
          : backoffDelayMs(i, baseDelayMs, maxDelayMs, random);
      options.onRetry?.({ attempt: i + 1, delayMs, failure });
      await sleep(delayMs, signal);
    }
  }
}
