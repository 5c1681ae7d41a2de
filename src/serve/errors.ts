import { AlignkitError } from '../errors.ts';

/** An error answered to the client as an OpenAI-style body: {error: {message, type, param, code}}. */
export class GatewayError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly type = 'invalid_request_error',
    readonly param: string | null = null,
    readonly code: string | null = null,
    /** extra response headers, e.g. Retry-After */
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'GatewayError';
  }
}

export const badRequest = (message: string, param: string | null = null, code: string | null = null) =>
  new GatewayError(400, message, 'invalid_request_error', param, code);
export const notFound = (message: string, param: string | null = null, code: string | null = null) =>
  new GatewayError(404, message, 'invalid_request_error', param, code);
export const unknownModel = (name: string, served: readonly string[]) =>
  notFound(`The model \`${name}\` does not exist (served: ${served.join(', ') || 'none'})`, 'model', 'model_not_found');

/** Maps anything thrown while serving to the status and body the client gets. */
export function toGatewayError(error: unknown): GatewayError {
  if (error instanceof GatewayError) return error;
  if (error instanceof AlignkitError) {
    switch (error.kind) {
      case 'input':
        return badRequest(error.message, error.where.field ?? null);
      case 'capability':
        return badRequest(error.message, null, 'unsupported');
      case 'backend':
        return new GatewayError(502, error.message, 'upstream_error');
      default:
        return new GatewayError(500, error.message, 'server_error');
    }
  }
  return new GatewayError(
    500,
    `internal error: ${error instanceof Error ? error.message : String(error)}`,
    'server_error',
  );
}

export function errorBody(error: GatewayError): {
  error: { message: string; type: string; param: string | null; code: string | null };
} {
  return { error: { message: error.message, type: error.type, param: error.param, code: error.code } };
}
