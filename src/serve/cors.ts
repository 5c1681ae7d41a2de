import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * Cross-origin access for browser applications (vLLM's `--allowed-origins`). Origins are exact
 * (`https://app.example`) or `*` for any. A request from an allowed origin gets
 * `Access-Control-Allow-Origin`; a preflight (`OPTIONS` with `Access-Control-Request-Method`)
 * gets the methods and the headers it asked for. Requests from other origins get no CORS
 * headers, so the browser keeps them from the page. Credentials (cookies) are never allowed:
 * the gateway authenticates with a bearer key.
 */
export class CorsPolicy {
  private readonly any: boolean;
  private readonly origins: Set<string>;

  constructor(allowed: readonly string[]) {
    this.any = allowed.includes('*');
    this.origins = new Set(allowed.filter((o) => o !== '*').map((o) => o.replace(/\/+$/, '')));
  }

  get enabled(): boolean {
    return this.any || this.origins.size > 0;
  }

  private allows(origin: string | undefined): origin is string {
    return origin !== undefined && (this.any || this.origins.has(origin));
  }

  /** Sets the headers every answer to an allowed origin carries. */
  apply(req: IncomingMessage, res: ServerResponse): void {
    if (!this.enabled) return;
    res.setHeader('vary', 'Origin');
    const origin = req.headers.origin;
    if (!this.allows(origin)) return;
    res.setHeader('access-control-allow-origin', this.any ? '*' : origin);
    res.setHeader('access-control-expose-headers', 'x-request-id, retry-after, x-alignkit-streaming');
  }

  /** Answers a preflight request (204); the headers say what the browser may send. */
  preflight(req: IncomingMessage, res: ServerResponse, methods: readonly string[]): void {
    const allow = [...methods, 'OPTIONS'].join(', ');
    const headers: Record<string, string> = { allow };
    if (this.allows(req.headers.origin) && req.headers['access-control-request-method']) {
      headers['access-control-allow-methods'] = allow;
      const asked = req.headers['access-control-request-headers'];
      if (asked) headers['access-control-allow-headers'] = asked;
      headers['access-control-max-age'] = '600';
    }
    res.writeHead(204, headers);
    res.end();
  }
}

/** `--allowed-origins`: a JSON list (vLLM's form) or a comma-separated one. */
export function parseAllowedOrigins(value: string): string[] {
  const text = value.trim();
  const list: unknown = text.startsWith('[') ? JSON.parse(text) : text.split(',');
  if (!Array.isArray(list) || !list.every((o) => typeof o === 'string'))
    throw new Error('expected a JSON list of strings or a comma-separated list');
  const origins = list.map((o) => o.trim()).filter(Boolean);
  for (const o of origins)
    if (o !== '*' && !/^[a-z][a-z0-9+.-]*:\/\/[^/\s]+\/?$/i.test(o))
      throw new Error(`"${o}" is not an origin (scheme://host[:port]) or *`);
  return origins;
}
