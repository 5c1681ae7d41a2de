import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AdmissionQueue } from './admission-queue.ts';
import { checkBearer } from './auth.ts';
import { chatCompletions } from './chat.ts';
import { completions } from './completions.ts';
import { GatewayError, errorBody, notFound, toGatewayError } from './errors.ts';
import { health } from './health.ts';
import { DEFAULT_LIMITS, readJsonBody, type GatewayLimits } from './limits.ts';
import { getModel, listModels } from './models.ts';
import { sendJson, type RequestContext } from './request-context.ts';
import { RequestFields } from './request-fields.ts';
import { ModelTable, type ServedModel } from './served-model.ts';
import { detokenize, tokenize } from './tokenize.ts';

export interface GatewayOptions {
  models: readonly ServedModel[];
  /** default 127.0.0.1: only this machine can connect unless told otherwise */
  host?: string;
  /** default 8000; 0 picks a free port */
  port?: number;
  /** when set, every route but /health needs `Authorization: Bearer <apiKey>` */
  apiKey?: string;
  limits?: Partial<GatewayLimits>;
}

export interface GatewayStats {
  requests: number;
  /** answers by status code */
  byStatus: Record<number, number>;
  inFlight: number;
  queue: { active: number; waiting: number };
}

export interface Gateway {
  readonly url: string;
  readonly host: string;
  readonly port: number;
  readonly models: ModelTable;
  stats(): GatewayStats;
  /**
   * Graceful stop: refuses new requests (503), lets the in-flight ones finish, then closes
   * every connection. After `graceMs`, requests still running are cancelled.
   */
  shutdown(graceMs?: number): Promise<void>;
}

interface Route {
  method: 'GET' | 'POST';
  path: RegExp;
  handler: (ctx: RequestContext) => Promise<void>;
  /** generation and scoring work: goes through the admission queue */
  admitted: boolean;
}

const ROUTES: Route[] = [
  { method: 'GET', path: /^\/v1\/models$/, handler: listModels, admitted: false },
  { method: 'GET', path: /^\/v1\/models\/(?<id>.+)$/, handler: getModel, admitted: false },
  { method: 'POST', path: /^\/v1\/completions$/, handler: completions, admitted: true },
  { method: 'POST', path: /^\/v1\/chat\/completions$/, handler: chatCompletions, admitted: true },
  { method: 'POST', path: /^(\/v1)?\/tokenize$/, handler: tokenize, admitted: false },
  { method: 'POST', path: /^(\/v1)?\/detokenize$/, handler: detokenize, admitted: false },
];

function findRoute(method: string, path: string): { route: Route; params: Record<string, string> } {
  let pathMatched = false;
  for (const route of ROUTES) {
    const m = route.path.exec(path);
    if (!m) continue;
    pathMatched = true;
    if (route.method === method) return { route, params: { ...m.groups } };
  }
  if (pathMatched)
    throw new GatewayError(
      405,
      `${method} is not allowed on ${path}`,
      'invalid_request_error',
      null,
      'method_not_allowed',
    );
  throw notFound(`no route ${method} ${path}`, null, 'unknown_url');
}

function decodePath(url: string | undefined): string {
  const path = (url ?? '/').split('?')[0];
  try {
    return decodeURIComponent(path);
  } catch {
    return path;
  }
}

/** Starts the OpenAI-compatible gateway on node:http. */
export async function startGateway(options: GatewayOptions): Promise<Gateway> {
  const limits: GatewayLimits = { ...DEFAULT_LIMITS, ...options.limits };
  const models = new ModelTable(options.models);
  const queue = new AdmissionQueue(limits.maxConcurrent, limits.maxQueue);
  const inFlight = new Set<AbortController>();
  const stats = { requests: 0, byStatus: {} as Record<number, number> };
  let draining = false;
  let drained: (() => void) | null = null;

  const finished = (controller: AbortController) => {
    inFlight.delete(controller);
    if (draining && inFlight.size === 0) drained?.();
  };

  const respondError = (res: ServerResponse, error: GatewayError) => {
    if (res.destroyed || res.writableEnded) return;
    if (!res.headersSent) {
      sendJson(
        res,
        error.status,
        errorBody(error),
        draining ? { ...error.headers, connection: 'close' } : error.headers,
      );
    } else if (String(res.getHeader('content-type') ?? '').startsWith('text/event-stream')) {
      res.write(`data: ${JSON.stringify(errorBody(error))}\n\ndata: [DONE]\n\n`);
      res.end();
    } else {
      res.destroy();
    }
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    stats.requests++;
    res.on('finish', () => (stats.byStatus[res.statusCode] = (stats.byStatus[res.statusCode] ?? 0) + 1));
    if (draining) res.setHeader('connection', 'close');
    const method = req.method ?? 'GET';
    const path = decodePath(req.url);
    if (path === '/health' && (method === 'GET' || method === 'HEAD')) return health(res, draining);
    if (draining)
      return respondError(
        res,
        new GatewayError(503, 'the server is shutting down', 'server_error', null, 'shutting_down'),
      );

    const controller = new AbortController();
    inFlight.add(controller);
    const timer = setTimeout(
      () =>
        controller.abort(
          new GatewayError(
            504,
            `the request did not finish within ${limits.requestTimeoutMs} ms`,
            'timeout',
            null,
            'request_timeout',
          ),
        ),
      limits.requestTimeoutMs,
    );
    res.on('close', () => {
      if (!res.writableFinished)
        controller.abort(new GatewayError(499, 'the client closed the connection', 'client_closed'));
      clearTimeout(timer);
      finished(controller);
    });
    let release: (() => void) | undefined;
    try {
      if (options.apiKey) checkBearer(req.headers.authorization, options.apiKey);
      const { route, params } = findRoute(method, path);
      const body = method === 'POST' ? await readJsonBody(req, limits.maxBodyBytes) : {};
      if (route.admitted) release = await queue.acquire(controller.signal);
      const work = route.handler({
        body: new RequestFields(body as Record<string, unknown>),
        res,
        signal: controller.signal,
        models,
        limits,
        params,
      });
      // a timeout or a disconnect answers at once, whatever the handler is waiting on
      await Promise.race([
        work,
        new Promise<never>((_, reject) => {
          if (controller.signal.aborted) reject(controller.signal.reason);
          controller.signal.addEventListener('abort', () => reject(controller.signal.reason), { once: true });
        }),
      ]);
    } catch (error) {
      const gatewayError = controller.signal.aborted ? toGatewayError(controller.signal.reason) : toGatewayError(error);
      if (gatewayError.status === 413) res.setHeader('connection', 'close');
      respondError(res, gatewayError);
    } finally {
      release?.();
    }
  }

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((error) => respondError(res, toGatewayError(error)));
  });
  server.on('clientError', (_error, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\n\r\n');
    else socket.destroy();
  });
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 8000, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const urlHost = host.includes(':') ? `[${host}]` : host === '0.0.0.0' ? '127.0.0.1' : host;

  return {
    url: `http://${urlHost}:${port}`,
    host,
    port,
    models,
    stats: () => ({ ...stats, byStatus: { ...stats.byStatus }, inFlight: inFlight.size, queue: queue.load }),
    async shutdown(graceMs = 30_000) {
      draining = true;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      if (inFlight.size > 0) {
        const allDone = new Promise<void>((resolve) => (drained = resolve));
        const timer = setTimeout(() => {
          for (const c of inFlight)
            c.abort(
              new GatewayError(
                503,
                'the server shut down before the request finished',
                'server_error',
                null,
                'shutting_down',
              ),
            );
        }, graceMs);
        await allDone;
        clearTimeout(timer);
      }
      server.closeAllConnections();
      await closed;
    },
  };
}
