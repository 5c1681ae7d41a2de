import type { ServerResponse } from 'node:http';
import { errorBody, type GatewayError } from './errors.ts';

/** A server-sent-events stream in OpenAI's format: `data: {json}` events, ended by `data: [DONE]`. */
export class SseStream {
  constructor(private readonly res: ServerResponse) {
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      'x-accel-buffering': 'no',
    });
    res.flushHeaders();
  }

  get open(): boolean {
    return !this.res.writableEnded && !this.res.destroyed;
  }

  send(value: unknown): void {
    if (this.open) this.res.write(`data: ${JSON.stringify(value)}\n\n`);
  }

  done(): void {
    if (!this.open) return;
    this.res.write('data: [DONE]\n\n');
    this.res.end();
  }

  /** An error after the stream started: an error event, then the end (as vLLM does). */
  fail(error: GatewayError): void {
    if (!this.open) return;
    this.send(errorBody(error));
    this.done();
  }
}
