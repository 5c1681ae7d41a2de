import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AdmissionQueue } from './admission-queue.ts';
import { checkBearer } from './auth.ts';
import { chatCompletions } from './chat.ts';
import { completions } from './completions.ts';
import { CorsPolicy } from './cors.ts';
import { GatewayError, errorBody, notFound, toGatewayError } from './errors.ts';
import { health } from './health.ts';
import { DEFAULT_LIMITS, readJsonBody, type GatewayLimits } from './limits.ts';
import { getModel, listModels } from './models.ts';
import { sendJson, type RequestContext } from './request-context.ts';
import { RequestFields } from './request-fields.ts';
import { responses } from './responses.ts';
import { ModelTable, type ServedModel } from './served-model.ts';
import { streamOf } from './sse.ts';
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
  /** origins browser pages may call from (`*` for any); default none (vLLM's --allowed-origins) */
  allowedOrigins?: readonly string[];
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
  { method: 'POST', path: /^\/v1\/responses$/, handler: responses, admitted: true },
  { method: 'POST', path: /^(\/v1)?\/tokenize$/, handler: tokenize, admitted: false },
  { method: 'POST', path: /^(\/v1)?\/detokenize$/, handler: detokenize, admitted: false },
];

function findRoute(method: string, path: string): { route: Route; params: Record<string, string> } {
  for (const route of ROUTES) {
    const m = route.path.exec(path);
    if (m && route.method === method) return { route, params: { ...m.groups } };
  }
  const allowed = methodsAt(path);
  if (allowed.length)
    throw new GatewayError(
      405,
      `${method} is not allowed on ${path} (allowed: ${allowed.join(', ')})`,
      'invalid_request_error',
      null,
      'method_not_allowed',
      { allow: [...allowed, 'OPTIONS'].join(', ') },
    );
  throw notFound(`no route ${method} ${path}`, null, 'unknown_url');
}

/** The methods served at a path (for OPTIONS and 405s). */
function methodsAt(path: string): string[] {
  if (path === '/health') return ['GET', 'HEAD'];
  return ROUTES.filter((route) => route.path.test(path)).map((route) => route.method);
}

/** The client's `x-request-id` when it is a sane header value, otherwise a new one. */
function requestIdOf(req: IncomingMessage): string {
  const given = req.headers['x-request-id'];
  return typeof given === 'string' && /^[\x20-\x7e]{1,256}$/.test(given) ? given : crypto.randomUUID();
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
  const cors = new CorsPolicy(options.allowedOrigins ?? []);
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
      // a 408/413 leaves the body unread: the connection cannot carry another request
      const close = draining || error.status === 408 || error.status === 413;
      sendJson(res, error.status, errorBody(error), close ? { ...error.headers, connection: 'close' } : error.headers);
      return;
    }
    const stream = streamOf(res);
    if (stream) stream.fail(error);
    else res.destroy();
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    stats.requests++;
    res.on('finish', () => (stats.byStatus[res.statusCode] = (stats.byStatus[res.statusCode] ?? 0) + 1));
    res.setHeader('x-request-id', requestIdOf(req));
    cors.apply(req, res);
    if (draining) res.setHeader('connection', 'close');
    const method = req.method ?? 'GET';
    const path = decodePath(req.url);
    if (path === '/health' && (method === 'GET' || method === 'HEAD')) return health(res, draining);
    if (method === 'OPTIONS' && methodsAt(path).length) return cors.preflight(req, res, methodsAt(path));
    if (draining)
      return respondError(
        res,
        new GatewayError(503, 'the server is shutting down', 'server_error', null, 'shutting_down'),
      );

    const controller = new AbortController();
    inFlight.add(controller);
    // the time limit covers the upload: a body still arriving then is a 408, a late answer a 504
    let uploading = true;
    const timer = setTimeout(
      () =>
        controller.abort(
          uploading
            ? new GatewayError(
                408,
                `the request body did not arrive within ${limits.requestTimeoutMs} ms (this server's --request-timeout-ms)`,
                'invalid_request_error',
                null,
                'request_timeout',
              )
            : new GatewayError(
                504,
                `the request did not finish within ${limits.requestTimeoutMs} ms (this server's --request-timeout-ms)`,
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
      const body = method === 'POST' ? await readJsonBody(req, limits.maxBodyBytes, controller.signal) : {};
      uploading = false;
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
      respondError(res, toGatewayError(controller.signal.aborted ? controller.signal.reason : error));
    } finally {
      release?.();
    }
  }

  // Node's own limits as a backstop behind the request timeout: headers must arrive in time, a
  // request (headers and body) within the timeout, and an idle socket is closed; the checks run
  // often enough for short timeouts to be kept
  const headersTimeout = Math.min(limits.requestTimeoutMs, 60_000);
  const server: Server = createServer(
    {
      headersTimeout,
      requestTimeout: limits.requestTimeoutMs + 1000,
      connectionsCheckingInterval: Math.max(50, Math.min(1000, headersTimeout / 4)),
    },
    (req, res) => {
      handle(req, res).catch((error) => respondError(res, toGatewayError(error)));
    },
  );
  server.timeout = limits.requestTimeoutMs + 5000;
  server.on('clientError', (_error, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\n\r\n');
    else socket.destroy();
  });
  // what a model builds on first use (a native model's onnxruntime session) is built before the
  // first request, which would otherwise wait for it
  for (const served of options.models) await served.model.prepare?.();
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
