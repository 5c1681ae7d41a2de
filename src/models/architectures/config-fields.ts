/** Typed access to the fields of a config.json object; every error names the file and the field. */
import { formatError } from '../../errors.ts';

export class ConfigFields {
  constructor(
    private readonly raw: Record<string, unknown>,
    readonly file: string,
  ) {}

  error(field: string, message: string) {
    return formatError(message, { file: this.file, field });
  }

  has(field: string): boolean {
    return this.raw[field] !== undefined && this.raw[field] !== null;
  }

  get(field: string): unknown {
    return this.raw[field];
  }

  /** the fields of a nested object (e.g. rope_scaling), errors naming `field.sub` */
  object(field: string): ConfigFields {
    const value = this.raw[field];
    if (typeof value !== 'object' || value === null || Array.isArray(value))
      throw this.error(field, `expected an object, got ${JSON.stringify(value)}`);
    return new NestedFields(value as Record<string, unknown>, this.file, field);
  }

  positiveInt(field: string, fallback?: number): number {
    const value = this.raw[field] ?? fallback;
    if (value === undefined) throw this.error(field, 'missing (expected a positive integer)');
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0) {
      throw this.error(field, `expected a positive integer, got ${JSON.stringify(value)}`);
    }
    return value;
  }

  nonNegativeInt(field: string, fallback?: number): number {
    const value = this.raw[field] ?? fallback;
    if (value === undefined) throw this.error(field, 'missing (expected an integer ≥ 0)');
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
      throw this.error(field, `expected an integer ≥ 0, got ${JSON.stringify(value)}`);
    }
    return value;
  }

  positiveNumber(field: string, fallback?: number): number {
    const value = this.raw[field] ?? fallback;
    if (value === undefined) throw this.error(field, 'missing (expected a positive number)');
    if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
      throw this.error(field, `expected a positive number, got ${JSON.stringify(value)}`);
    }
    return value;
  }

  /** a positive number, or null when the field is absent or null */
  optionalPositiveNumber(field: string): number | null {
    return this.has(field) ? this.positiveNumber(field) : null;
  }

  positiveNumbers(field: string, length: number): number[] {
    const value = this.raw[field];
    if (
      !Array.isArray(value) ||
      value.length !== length ||
      !value.every((x) => typeof x === 'number' && Number.isFinite(x) && x > 0)
    )
      throw this.error(field, `expected a list of ${length} positive numbers, got ${JSON.stringify(value)}`);
    return [...value];
  }

  boolean(field: string, fallback: boolean): boolean {
    const value = this.raw[field] ?? fallback;
    if (typeof value !== 'boolean') throw this.error(field, `expected true or false, got ${JSON.stringify(value)}`);
    return value;
  }

  string(field: string, fallback: string): string {
    const value = this.raw[field] ?? fallback;
    if (typeof value !== 'string') throw this.error(field, `expected a string, got ${JSON.stringify(value)}`);
    return value;
  }

  /** one of `allowed` (the field's default first) */
  oneOf<T extends string>(field: string, allowed: readonly T[], what: string): T {
    const value = this.string(field, allowed[0]);
    if (!(allowed as readonly string[]).includes(value))
      throw this.error(
        field,
        `unsupported ${what} ${JSON.stringify(value)} (expected ${allowed.map((a) => JSON.stringify(a)).join(' or ')})`,
      );
    return value as T;
  }

  tokenId(field: string): number | null {
    const value = this.raw[field] ?? null;
    if (value !== null && !isTokenId(value))
      throw this.error(field, `expected a token id or null, got ${JSON.stringify(value)}`);
    return value;
  }

  tokenIds(field: string): number | number[] | null {
    const value = this.raw[field] ?? null;
    if (value === null || isTokenId(value)) return value;
    if (Array.isArray(value) && value.every(isTokenId)) return [...value];
    throw this.error(field, `expected a token id, a list of token ids, or null, got ${JSON.stringify(value)}`);
  }
}

/** Fields of an object inside config.json; errors name `parent.field`. */
class NestedFields extends ConfigFields {
  constructor(
    raw: Record<string, unknown>,
    file: string,
    private readonly parent: string,
  ) {
    super(raw, file);
  }

  override error(field: string, message: string) {
    return formatError(message, { file: this.file, field: `${this.parent}.${field}` });
  }
}

const isTokenId = (x: unknown): x is number => typeof x === 'number' && Number.isSafeInteger(x) && x >= 0;
