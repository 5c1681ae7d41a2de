import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** A fault the proxy answers with instead of forwarding. */
export type Fault =
  | { kind: 'status'; status: number; retryAfter?: string; body?: string }
  /** the socket is destroyed before any answer */
  | { kind: 'reset' }
  /** no answer at all (the client's timeout must fire) */
  | { kind: 'hang' }
  /** 200 with a content-length larger than what is sent, then the socket is destroyed */
  | { kind: 'truncate' }
  /** 200 with a complete, well-framed body that is not valid JSON */
  | { kind: 'bad-json' };

export interface SeenRequest {
  method: string;
  path: string;
  body: any;
}

export interface FaultProxy {
  url: string;
  /** every request received, faulted or not */
  seen: SeenRequest[];
  /** faults for the next matching requests, used up in order; then requests pass through */
  inject(faults: Fault[], match?: (req: SeenRequest) => boolean): void;
  /** a fault for every matching request, until removed */
  always(rule: (req: SeenRequest) => Fault | undefined): void;
  /** answers POST `path` itself (e.g. to speak another server's protocol) */
  handle(path: string, handler: (body: any) => Promise<unknown>): void;
  close(): Promise<void>;
}

/** A loopback HTTP proxy in front of a real server that injects faults on demand. */
export async function startFaultProxy(upstream: string): Promise<FaultProxy> {
  const seen: SeenRequest[] = [];
  const queued: { fault: Fault; match: (req: SeenRequest) => boolean }[] = [];
  const rules: ((req: SeenRequest) => Fault | undefined)[] = [];
  const sockets = new Set<Socket>();
  const handlers = new Map<string, (body: any) => Promise<unknown>>();

  const answer = async (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    let body: any;
    try {
      body = raw ? JSON.parse(raw) : undefined;
    } catch {
      body = raw;
    }
    const request: SeenRequest = { method: req.method ?? 'GET', path: (req.url ?? '/').split('?')[0], body };
    seen.push(request);
    const at = queued.findIndex((q) => q.match(request));
    const fault = at >= 0 ? queued.splice(at, 1)[0].fault : rules.map((r) => r(request)).find(Boolean);
    if (fault) {
      switch (fault.kind) {
        case 'status': {
          const headers: Record<string, string> = { 'content-type': 'application/json' };
          if (fault.retryAfter !== undefined) headers['retry-after'] = fault.retryAfter;
          res.writeHead(fault.status, headers);
          res.end(
            fault.body ?? JSON.stringify({ error: { message: `injected ${fault.status}`, type: 'server_error' } }),
          );
          return;
        }
        case 'reset':
          req.socket.destroy();
          return;
        case 'hang':
          return;
        case 'truncate':
          res.writeHead(200, { 'content-type': 'application/json', 'content-length': '1000' });
          res.write('{"choices": [{"text": "trunc');
          setTimeout(() => req.socket.destroy(), 5);
          return;
        case 'bad-json': {
          const text = '{"choices": [{"text": "oops"';
          res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
          res.end(text);
          return;
        }
      }
    }
    const own = handlers.get(request.path);
    if (own && request.method === 'POST') {
      const text = JSON.stringify(await own(body));
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(text);
      return;
    }
    const headers: Record<string, string> = {};
    for (const h of ['content-type', 'authorization']) if (req.headers[h]) headers[h] = String(req.headers[h]);
    const upstreamResponse = await fetch(upstream + (req.url ?? '/'), {
      method: req.method,
      headers,
      body: raw || undefined,
    });
    const text = await upstreamResponse.text();
    res.writeHead(upstreamResponse.status, {
      'content-type': upstreamResponse.headers.get('content-type') ?? 'application/json',
    });
    res.end(text);
  };

  const server = createServer((req, res) => {
    answer(req, res).catch(() => req.socket.destroy());
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    inject(faults, match = () => true) {
      for (const fault of faults) queued.push({ fault, match });
    },
    always(rule) {
      rules.push(rule);
    },
    handle(path, handler) {
      handlers.set(path, handler);
    },
    close() {
      for (const s of sockets) s.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
