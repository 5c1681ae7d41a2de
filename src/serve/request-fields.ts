import { badRequest } from './errors.ts';

/**
 * A range check. `maxReason` says whose limit the maximum is when it is not the OpenAI
 * specification's own (a server flag), so that a client learns what it can change.
 */
export type Bounds = { min?: number; max?: number; maxReason?: string };

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

  /** The names the client sent. */
  names(): string[] {
    return Object.keys(this.body);
  }

  private checkBounds(name: string, value: number, bounds: Bounds): number {
    if (bounds.min !== undefined && value < bounds.min)
      throw badRequest(`"${name}" must be at least ${bounds.min}, got ${value}`, name);
    if (bounds.max !== undefined && value > bounds.max)
      throw badRequest(
        `"${name}" must be at most ${bounds.max}${bounds.maxReason ? ` (${bounds.maxReason})` : ''}, got ${value}`,
        name,
      );
    return value;
  }

  string(name: string, bounds: { maxLength?: number } = {}): string | undefined {
    const v = this.body[name];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'string') throw badRequest(`"${name}" must be a string, got ${describe(v)}`, name);
    if (bounds.maxLength !== undefined && v.length > bounds.maxLength)
      throw badRequest(`"${name}" may be at most ${bounds.maxLength} characters, got ${v.length}`, name);
    return v;
  }

  requiredString(name: string): string {
    const v = this.string(name);
    if (v === undefined) throw badRequest(`"${name}" is required`, name);
    return v;
  }

  /** One of a fixed set of strings. */
  choice<T extends string>(name: string, allowed: readonly T[]): T | undefined {
    const v = this.string(name);
    if (v === undefined) return undefined;
    if (!(allowed as readonly string[]).includes(v))
      throw badRequest(`"${name}" must be one of ${allowed.join(', ')}, got ${describe(v)}`, name);
    return v as T;
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

  /** A string or a non-empty list of strings (OpenAI's `stop`). */
  stringList(name: string, maxItems: number): string[] {
    const v = this.body[name];
    if (v === undefined || v === null) return [];
    const list = typeof v === 'string' ? [v] : v;
    if (!Array.isArray(list) || !list.every((s) => typeof s === 'string'))
      throw badRequest(`"${name}" must be a string or a list of strings`, name);
    if (list.length === 0) throw badRequest(`"${name}" must not be an empty list (leave it out instead)`, name);
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

  /** An object whose values are all of one JSON type (`metadata`: strings; `logit_bias`: integers). */
  map(name: string, valueType: 'string' | 'integer'): Record<string, unknown> | undefined {
    const v = this.object(name);
    if (!v) return v;
    for (const [key, value] of Object.entries(v)) {
      const ok = valueType === 'string' ? typeof value === 'string' : Number.isInteger(value);
      if (!ok) throw badRequest(`"${name}.${key}" must be ${valueType === 'string' ? 'a string' : 'an integer'}`, name);
    }
    return v;
  }

  /** An object with only boolean members, of the names given (`stream_options`). */
  flags(name: string, allowed: readonly string[]): Record<string, boolean> {
    const v = this.object(name) ?? {};
    for (const [key, value] of Object.entries(v)) {
      if (!allowed.includes(key))
        throw badRequest(`"${name}" has an unknown member "${key}" (known: ${allowed.join(', ')})`, name);
      if (typeof value !== 'boolean' && value !== null)
        throw badRequest(`"${name}.${key}" must be true or false`, name);
    }
    return v as Record<string, boolean>;
  }
}
