import type { ServerResponse } from 'node:http';
import { sendJson } from './request-context.ts';

/** GET /health: 200 while serving, 503 once shutting down (so load balancers stop sending). */
export function health(res: ServerResponse, draining: boolean): void {
  sendJson(res, draining ? 503 : 200, { status: draining ? 'draining' : 'ok' });
}
