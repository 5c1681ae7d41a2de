import type { ServerResponse } from 'node:http';
import type { ChoiceResult } from './continuous-batcher.ts';
import type { GatewayLimits } from './limits.ts';
import type { RequestFields } from './request-fields.ts';
import type { ModelTable, ServedModel } from './served-model.ts';
import type { SseStream } from './sse.ts';

/** What a route handler gets: the parsed body, the response, a signal for cancellation. */
export interface RequestContext {
  body: RequestFields;
  res: ServerResponse;
  /** aborts when the client disconnects, the request times out, or the server is forced down */
  signal: AbortSignal;
  models: ModelTable;
  limits: GatewayLimits;
  /** path parameters, e.g. the model id of GET /v1/models/{id} */
  params: Record<string, string>;
}

export function sendJson(
  res: ServerResponse,
  status: number,
  value: unknown,
  headers: Record<string, string> = {},
): void {
  const body = JSON.stringify(value);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...headers });
  res.end(body);
}

/** A request id in OpenAI's style (`cmpl-…`, `chatcmpl-…`). */
export function responseId(prefix: string): string {
  return `${prefix}-${crypto.randomUUID().replace(/-/g, '')}`;
}

/** OpenAI's usage object for a response. */
export function usageOf(promptTokens: number, results: readonly ChoiceResult[]) {
  const completionTokens = results.reduce((sum, r) => sum + r.tokens.length, 0);
  return {
    prompt_tokens: promptTokens,
    completion_tokens: completionTokens,
    total_tokens: promptTokens + completionTokens,
  };
}

/**
 * Sends the chunks of one chat or completions stream, each with the same id, object, created,
 * model and fingerprint; with `include_usage`, "usage" is null on every chunk but the last,
 * which carries the totals (as the specification describes).
 */
export function chunkSender(
  sse: SseStream,
  head: { id: string; object: string; served: ServedModel; includeUsage: boolean },
): (choices: Record<string, unknown>[], usage?: unknown) => void {
  const created = Math.floor(Date.now() / 1000);
  return (choices, usage) =>
    sse.send({
      id: head.id,
      object: head.object,
      created,
      model: head.served.name,
      system_fingerprint: head.served.fingerprint,
      choices,
      ...(head.includeUsage ? { usage: usage ?? null } : {}),
    });
}

/** Says in every stream how finely the served model's text arrives, and why when it arrives whole. */
export function streamHeaders(served: ServedModel): Record<string, string> {
  const { unit, why } = served.streaming;
  return { 'x-alignkit-streaming': why ? `${unit}; ${why}` : unit };
}
