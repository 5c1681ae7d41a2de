import type { ServerResponse } from 'node:http';
import type { GatewayLimits } from './limits.ts';
import type { RequestFields } from './request-fields.ts';
import type { ModelTable } from './served-model.ts';

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
