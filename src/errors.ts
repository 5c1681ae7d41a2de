/**
 * Typed errors. Everything below cli/ throws these instead of printing or exiting;
 * the CLI prints `error.message` on one line and exits non-zero.
 */
export type ErrorKind =
  | 'input' // bad user input: a file, line, field or flag is wrong
  | 'format' // a model/tokenizer/data file is malformed
  | 'capability' // a backend lacks a feature the method needs
  | 'backend' // a remote server failed after retries
  | 'numeric' // NaN/Inf where a number was expected
  | 'io' // a file could not be written or read (disk full, permissions)
  | 'internal';

export interface ErrorWhere {
  file?: string;
  line?: number;
  field?: string;
}

export class AlignkitError extends Error {
  readonly kind: ErrorKind;
  readonly where: ErrorWhere;
  constructor(kind: ErrorKind, message: string, where: ErrorWhere = {}, options?: { cause?: unknown }) {
    const loc = [
      where.file,
      where.line !== undefined ? `line ${where.line}` : undefined,
      where.field ? `field "${where.field}"` : undefined,
    ]
      .filter(Boolean)
      .join(', ');
    super(loc ? `${loc}: ${message}` : message, options);
    this.name = 'AlignkitError';
    this.kind = kind;
    this.where = where;
  }
}

/**
 * A prompt that does not fit a model's context window (the native backend's check, or a server's
 * "context length exceeded" answer). Callers that can record it per item and go on catch this type.
 */
export class ContextLengthError extends AlignkitError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('input', message, {}, options);
    this.name = 'ContextLengthError';
  }
}

export const inputError = (message: string, where: ErrorWhere = {}) => new AlignkitError('input', message, where);
export const formatError = (message: string, where: ErrorWhere = {}) => new AlignkitError('format', message, where);
