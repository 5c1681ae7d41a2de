import { MessageChannel, Worker, receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import { AlignkitError } from '../../errors.ts';
import { backoffDelayMs, parseRetryAfter } from './retry.ts';

// The worker only moves bytes; the retry policy stays on the calling side.
const WORKER_SOURCE = `
const { workerData } = require('node:worker_threads');
const { port, flag } = workerData;
port.on('message', async ({ url, headers, body, timeoutMs }) => {
  let reply;
  try {
    const response = await fetch(url, { method: 'POST', headers, body, signal: AbortSignal.timeout(timeoutMs) });
    reply = { status: response.status, retryAfter: response.headers.get('retry-after'), text: await response.text() };
  } catch (e) {
    reply = { error: String((e && e.cause && e.cause.message) || (e && e.message) || e) };
  }
  port.postMessage(reply);
  Atomics.store(flag, 0, 1);
  Atomics.notify(flag, 0);
});
`;

interface Reply {
  status?: number;
  retryAfter?: string | null;
  text?: string;
  error?: string;
}

/**
 * Blocking JSON POSTs, for the few interfaces that must answer synchronously (a remote
 * model's Tokenizer). A worker thread sends the request while this thread waits on an
 * Atomics flag. The server must not run on the calling thread, or the wait would stall it.
 */
export class SyncHttpClient {
  private worker?: Worker;
  private port?: MessagePort;
  private flag?: Int32Array;

  constructor(private readonly options: { apiKey?: string; timeoutMs: number; maxRetries: number }) {}

  private start(): void {
    if (this.worker) return;
    const { port1, port2 } = new MessageChannel();
    this.flag = new Int32Array(new SharedArrayBuffer(4));
    this.worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { port: port2, flag: this.flag },
      transferList: [port2],
    });
    this.worker.unref();
    port1.unref();
    this.port = port1;
  }

  private once(url: string, body: string): Reply {
    this.start();
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (this.options.apiKey) headers.authorization = `Bearer ${this.options.apiKey}`;
    Atomics.store(this.flag!, 0, 0);
    this.port!.postMessage({ url, headers, body, timeoutMs: this.options.timeoutMs });
    // a little past the worker's own timeout, so its timeout answer normally arrives first
    if (Atomics.wait(this.flag!, 0, 0, this.options.timeoutMs + 1000) === 'timed-out') {
      return { error: `no answer within ${this.options.timeoutMs} ms` };
    }
    return (receiveMessageOnPort(this.port!)?.message as Reply) ?? { error: 'the request worker sent no reply' };
  }

  postJson(url: string, body: unknown): any {
    const payload = JSON.stringify(body);
    let last = '';
    for (let attempt = 0; attempt <= this.options.maxRetries; attempt++) {
      const reply = this.once(url, payload);
      let retryAfterMs: number | undefined;
      if (reply.error !== undefined) last = reply.error;
      else if (reply.status! >= 200 && reply.status! < 300) {
        try {
          return JSON.parse(reply.text!);
        } catch (e) {
          last = `malformed response (${(e as Error).message})`;
        }
      } else {
        last = `server answered ${reply.status} ${reply.text?.slice(0, 300)}`;
        if (reply.status !== 429 && reply.status! < 500) throw new AlignkitError('backend', `POST ${url}: ${last}`);
        retryAfterMs = parseRetryAfter(reply.retryAfter);
      }
      if (attempt < this.options.maxRetries)
        sleepSync(retryAfterMs ?? backoffDelayMs(attempt, 250, 10_000, Math.random));
    }
    throw new AlignkitError('backend', `POST ${url} failed after ${this.options.maxRetries + 1} attempts: ${last}`);
  }

  close(): void {
    void this.worker?.terminate();
    this.port?.close();
    this.worker = undefined;
  }
}

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}
