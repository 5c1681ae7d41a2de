import type { IncomingMessage } from 'node:http';
import { GatewayError, badRequest } from './errors.ts';

/** What one gateway accepts. */
export interface GatewayLimits {
  /** request body size */
  maxBodyBytes: number;
  /** max_tokens of one request */
  maxTokens: number;
  /** choices per prompt */
  maxN: number;
  /** prompts in one completions request */
  maxPrompts: number;
  /** top log-probs per position (logprobs / top_logprobs / prompt_logprobs) */
  maxLogprobs: number;
  /** stop strings per request */
  maxStop: number;
  /** requests being served at once */
  maxConcurrent: number;
  /** requests waiting for a slot; beyond this the gateway answers 429 */
  maxQueue: number;
  /** sequences decoded together in one batch of a native model */
  maxBatchSequences: number;
  /** per-request time limit */
  requestTimeoutMs: number;
}

export const DEFAULT_LIMITS: GatewayLimits = {
  maxBodyBytes: 8 * 1024 * 1024,
  maxTokens: 4096,
  maxN: 16,
  maxPrompts: 256,
  maxLogprobs: 20,
  maxStop: 16,
  maxConcurrent: 64,
  maxQueue: 256,
  maxBatchSequences: 64,
  requestTimeoutMs: 300_000,
};

/** Reads and parses a JSON request body, refusing bodies over the size limit. */
export async function readJsonBody(req: IncomingMessage, maxBytes: number): Promise<unknown> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBytes) throw tooLarge(maxBytes);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > maxBytes) throw tooLarge(maxBytes);
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
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
    `the request body is larger than ${maxBytes} bytes`,
    'invalid_request_error',
    null,
    'request_too_large',
  );
