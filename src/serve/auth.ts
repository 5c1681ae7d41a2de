import { createHash, timingSafeEqual } from 'node:crypto';
import { GatewayError } from './errors.ts';

const digest = (s: string) => createHash('sha256').update(s).digest();

/**
 * Checks `Authorization: Bearer KEY` in constant time. Both sides are hashed first so the
 * comparison takes the same time whatever the lengths.
 */
export function checkBearer(authorization: string | undefined, key: string): void {
  const match = /^Bearer\s+(.+)$/i.exec(authorization?.trim() ?? '');
  const given = match ? match[1].trim() : '';
  if (!match || !timingSafeEqual(digest(given), digest(key))) {
    throw new GatewayError(
      401,
      match ? 'Incorrect API key provided.' : 'Missing bearer token: send "Authorization: Bearer <key>".',
      'invalid_request_error',
      null,
      'invalid_api_key',
      { 'www-authenticate': 'Bearer' },
    );
  }
}
