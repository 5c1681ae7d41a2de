import type { IncomingMessage } from 'node:http';
import { GatewayError, badRequest } from './errors.ts';

/**
 * What one gateway accepts beyond the OpenAI specification's own ranges: each is tighter than
 * the specification (or covers what it leaves open), is a `serve` flag, and is named in the
 * error a request that exceeds it gets.
 */
export interface GatewayLimits {
  /** request body size (--max-body-bytes) */
  maxBodyBytes: number;
  /** max_tokens of one request (--max-tokens) */
  maxTokens: number;
  /** choices per prompt (--max-n; the specification allows 128) */
  maxN: number;
  /** prompts in one completions request (--max-prompts) */
  maxPrompts: number;
  /** top log-probs per position (--max-logprobs): caps chat's top_logprobs (≤ 20 by the specification), completions' logprobs (≤ 5) and vLLM's prompt_logprobs */
  maxLogprobs: number;
  /** requests being served at once */
  maxConcurrent: number;
  /** requests waiting for a slot; beyond this the gateway answers 429 */
  maxQueue: number;
  /** sequences decoded together in one batch of a native model */
  maxBatchSequences: number;
  /** per-request time limit, upload included (--request-timeout-ms) */
  requestTimeoutMs: number;
}

/** The flag that sets each limit, for error messages. */
export const LIMIT_FLAGS: Record<keyof GatewayLimits, string> = {
  maxBodyBytes: '--max-body-bytes',
  maxTokens: '--max-tokens',
  maxN: '--max-n',
  maxPrompts: '--max-prompts',
  maxLogprobs: '--max-logprobs',
  maxConcurrent: '--max-concurrent',
  maxQueue: '--max-queue',
  maxBatchSequences: '--max-batch',
  requestTimeoutMs: '--request-timeout-ms',
};

/** `{max, maxReason}` for a range: the specification's maximum, or this server's when lower. */
export function specOrServerMax(specMax: number, limits: GatewayLimits, limit: keyof GatewayLimits) {
  return limits[limit] < specMax
    ? { max: limits[limit], maxReason: `this server's ${LIMIT_FLAGS[limit]}` }
    : { max: specMax, maxReason: undefined };
}

/** Stop strings per request (the specification's maximum). */
export const MAX_STOP_STRINGS = 4;

export const DEFAULT_LIMITS: GatewayLimits = {
  maxBodyBytes: 8 * 1024 * 1024,
  maxTokens: 4096,
  maxN: 16,
  maxPrompts: 256,
  maxLogprobs: 20,
  maxConcurrent: 64,
  maxQueue: 256,
  maxBatchSequences: 64,
  requestTimeoutMs: 300_000,
};

/** Reads the raw body; stops (rejecting with the signal's reason) as soon as `signal` aborts. */
function readBody(req: IncomingMessage, maxBytes: number, signal: AbortSignal): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const stop = (error: unknown) => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', stop);
      signal.removeEventListener('abort', onAbort);
      req.pause();
      reject(error);
    };
    const onAbort = () => stop(signal.reason);
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) stop(tooLarge(maxBytes));
      else chunks.push(chunk);
    };
    const onEnd = () => {
      signal.removeEventListener('abort', onAbort);
      resolve(Buffer.concat(chunks));
    };
    if (signal.aborted) return reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', stop);
  });
}

/**
 * Reads and parses a JSON request body, refusing bodies over the size limit. A body still
 * arriving when `signal` aborts (the request timeout) is abandoned at once.
 */
export async function readJsonBody(req: IncomingMessage, maxBytes: number, signal: AbortSignal): Promise<unknown> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBytes) throw tooLarge(maxBytes);
  const text = (await readBody(req, maxBytes, signal)).toString('utf8');
  if (!text.trim()) throw badRequest('the request body is empty; expected a JSON object');
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (e) {
    throw badRequest(`the request body is not valid JSON (${(e as Error).message})`);
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body))
    throw badRequest('the request body must be a JSON object');
  return body;
}

const tooLarge = (maxBytes: number) =>
  new GatewayError(
    413,
    `the request body is larger than ${maxBytes} bytes (this server's --max-body-bytes)`,
    'invalid_request_error',
    null,
    'request_too_large',
  );
