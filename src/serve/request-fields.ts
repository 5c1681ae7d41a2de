import { badRequest } from './errors.ts';

type Bounds = { min?: number; max?: number };

const describe = (v: unknown) =>
  v === null
    ? 'null'
    : Array.isArray(v)
      ? 'an array'
      : typeof v === 'string'
        ? `the string ${JSON.stringify(v.length > 40 ? v.slice(0, 40) + '…' : v)}`
        : typeof v === 'object'
          ? 'an object'
          : String(v);

/** Typed access to a JSON request body; a wrong type or range is a 400 that names the field. */
export class RequestFields {
  constructor(private readonly body: Record<string, unknown>) {}

  has(name: string): boolean {
    return this.body[name] !== undefined && this.body[name] !== null;
  }

  raw(name: string): unknown {
    return this.body[name];
  }

  private checkBounds(name: string, value: number, bounds: Bounds): number {
    if (bounds.min !== undefined && value < bounds.min)
      throw badRequest(`"${name}" must be at least ${bounds.min}, got ${value}`, name);
    if (bounds.max !== undefined && value > bounds.max)
      throw badRequest(`"${name}" must be at most ${bounds.max}, got ${value}`, name);
    return value;
  }

  string(name: string): string | undefined {
    const v = this.body[name];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'string') throw badRequest(`"${name}" must be a string, got ${describe(v)}`, name);
    return v;
  }

  requiredString(name: string): string {
    const v = this.string(name);
    if (v === undefined) throw badRequest(`"${name}" is required`, name);
    return v;
  }

  number(name: string, fallback: number, bounds?: Bounds): number;
  number(name: string, fallback: undefined, bounds?: Bounds): number | undefined;
  number(name: string, fallback: number | undefined, bounds: Bounds = {}): number | undefined {
    const v = this.body[name];
    if (v === undefined || v === null) return fallback;
    if (typeof v !== 'number' || !Number.isFinite(v))
      throw badRequest(`"${name}" must be a number, got ${describe(v)}`, name);
    return this.checkBounds(name, v, bounds);
  }

  int(name: string, fallback: number, bounds?: Bounds): number;
  int(name: string, fallback: undefined, bounds?: Bounds): number | undefined;
  int(name: string, fallback: number | undefined, bounds: Bounds = {}): number | undefined {
    const v = this.body[name];
    if (v === undefined || v === null) return fallback;
    if (typeof v !== 'number' || !Number.isInteger(v))
      throw badRequest(`"${name}" must be an integer, got ${describe(v)}`, name);
    return this.checkBounds(name, v, bounds);
  }

  bool(name: string, fallback: boolean): boolean {
    const v = this.body[name];
    if (v === undefined || v === null) return fallback;
    if (typeof v !== 'boolean') throw badRequest(`"${name}" must be true or false, got ${describe(v)}`, name);
    return v;
  }

  /** A string or a list of strings (OpenAI's `stop`). */
  stringList(name: string, maxItems: number): string[] {
    const v = this.body[name];
    if (v === undefined || v === null) return [];
    const list = typeof v === 'string' ? [v] : v;
    if (!Array.isArray(list) || !list.every((s) => typeof s === 'string'))
      throw badRequest(`"${name}" must be a string or a list of strings`, name);
    if (list.length > maxItems)
      throw badRequest(`"${name}" may hold at most ${maxItems} strings, got ${list.length}`, name);
    return list.filter((s) => s.length > 0);
  }

  object(name: string): Record<string, unknown> | undefined {
    const v = this.body[name];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'object' || Array.isArray(v))
      throw badRequest(`"${name}" must be an object, got ${describe(v)}`, name);
    return v as Record<string, unknown>;
  }

  /** Refuses sampling knobs the gateway does not implement, unless they are at their neutral value. */
  unsupported(name: string, neutral: unknown): void {
    const v = this.body[name];
    if (v === undefined || v === null || v === neutral) return;
    if (
      typeof neutral === 'object' &&
      neutral !== null &&
      typeof v === 'object' &&
      Object.keys(v as object).length === 0
    )
      return;
    throw badRequest(`"${name}" is not supported by this server`, name, 'unsupported_parameter');
  }
}
