import type { ServerResponse } from 'node:http';
import { errorBody, type GatewayError } from './errors.ts';

/** The stream a response carries once its first byte is out: the server ends it in its own format on failure. */
const openStreams = new WeakMap<ServerResponse, SseStream>();

/** The server-sent-events stream `res` carries, if one has started. */
export function streamOf(res: ServerResponse): SseStream | undefined {
  return openStreams.get(res);
}

/**
 * A server-sent-events stream in OpenAI's chat/completions format: `data: {json}` events, ended
 * by `data: [DONE]`. A failure after the first byte ends it with an error event and `[DONE]`
 * (as vLLM does), never by cutting the connection.
 */
export class SseStream {
  constructor(
    protected readonly res: ServerResponse,
    headers: Record<string, string> = {},
  ) {
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      'x-accel-buffering': 'no',
      ...headers,
    });
    res.flushHeaders();
    openStreams.set(res, this);
  }

  get open(): boolean {
    return !this.res.writableEnded && !this.res.destroyed;
  }

  /** One event; `event` names it (the Responses API names every event). */
  send(value: unknown, event?: string): void {
    if (this.open) this.res.write(`${event ? `event: ${event}\n` : ''}data: ${JSON.stringify(value)}\n\n`);
  }

  done(): void {
    if (!this.open) return;
    this.res.write('data: [DONE]\n\n');
    this.res.end();
  }

  /** An error after the stream started: an error event, then the end. */
  fail(error: GatewayError): void {
    if (!this.open) return;
    this.send(errorBody(error));
    this.done();
  }
}
