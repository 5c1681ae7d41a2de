import { parseArgs, type ParseArgsConfig } from 'node:util';
import { readFileSync } from 'node:fs';
import YAML from 'yaml';
import { inputError } from '../errors.ts';

export type FlagSpec = NonNullable<ParseArgsConfig['options']>;

/**
 * Parses command flags with node's parseArgs. `--config FILE` (yaml/json) supplies the same
 * keys (camelCase or kebab-case); flags given on the command line win. Unknown flags and
 * missing values give an error that names the flag.
 */
export function parseFlags(
  argv: string[],
  options: FlagSpec,
  allowPositionals = false,
): { values: Record<string, any>; positionals: string[] } {
  const spec: FlagSpec = { ...options, config: { type: 'string' }, debug: { type: 'boolean' } };
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: spec, allowPositionals, strict: true });
  } catch (e) {
    throw inputError((e as Error).message.replace(/^TypeError \[[A-Z_]+\]: /, ''));
  }
  const values: Record<string, any> = { ...parsed.values };
  if (typeof values.config === 'string') {
    const file = values.config as string;
    let fromFile: Record<string, unknown>;
    try {
      const text = readFileSync(file, 'utf8');
      fromFile = (file.endsWith('.json') ? JSON.parse(text) : YAML.parse(text)) ?? {};
    } catch (e) {
      throw inputError(`cannot read config (${(e as Error).message})`, { file });
    }
    for (const [rawKey, v] of Object.entries(fromFile)) {
      const key = rawKey.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase());
      if (!(key in options))
        throw inputError(`unknown key (expected one of: ${Object.keys(options).join(', ')})`, { file, field: rawKey });
      if (values[key] === undefined) values[key] = Array.isArray(v) || typeof v === 'boolean' ? v : String(v);
    }
  }
  return { values, positionals: parsed.positionals };
}

export function requireFlag(values: Record<string, any>, name: string): string {
  const v = values[name];
  if (v === undefined || v === '') throw inputError(`missing required flag --${name}`);
  return String(v);
}

export function numberFlag(values: Record<string, any>, name: string, fallback: number): number;
export function numberFlag(values: Record<string, any>, name: string, fallback?: number): number | undefined;
export function numberFlag(values: Record<string, any>, name: string, fallback?: number): number | undefined {
  const v = values[name];
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isFinite(n)) throw inputError(`--${name} expects a number, got "${v}"`);
  return n;
}

export function intFlag(values: Record<string, any>, name: string, fallback: number): number;
export function intFlag(values: Record<string, any>, name: string, fallback?: number): number | undefined;
export function intFlag(values: Record<string, any>, name: string, fallback?: number): number | undefined {
  const n = numberFlag(values, name, fallback);
  if (n !== undefined && !Number.isInteger(n)) throw inputError(`--${name} expects an integer, got "${values[name]}"`);
  return n;
}

export function listFlag(values: Record<string, any>, name: string): string[] {
  const v = values[name];
  if (v === undefined) return [];
  const items = Array.isArray(v) ? v : [v];
  return items
    .flatMap((s: string) => String(s).split(','))
    .map((s) => s.trim())
    .filter(Boolean);
}
