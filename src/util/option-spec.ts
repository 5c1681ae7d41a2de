/**
 * Declarative options: each option of a command, a steering method or a benchmark is declared
 * once — type, default, range or choices, description, whether it is part of a run's identity —
 * and everything else is derived: typed values (`OptionValues<typeof spec>`), the JSON Schema that
 * validates them (ajv), the parsing of text values (flags) and the error that names the option
 * and what was expected. The CLI builds flags and help from it, `--config` files and guided-model
 * configs are validated against the same schema.
 */
import { Ajv, type ErrorObject } from 'ajv';
import { inputError, type ErrorWhere } from '../errors.ts';

interface OptionCommon {
  /** one line (or a short paragraph) for help and the README */
  description: string;
  /** the command-line flag without dashes (default: the key in kebab-case) */
  flag?: string;
  /** what the value is called in help, e.g. FILE, N (default from the type) */
  placeholder?: string;
  /** part of a run's resume identity (default true): a resume with another value is refused */
  identity?: boolean;
  /** the heading it is listed under in help */
  group?: string;
  required?: boolean;
}

export interface StringOption extends OptionCommon {
  type: 'string';
  default?: string;
  choices?: readonly string[];
  /** may be given several times; the value is then a list (commas are kept: stop strings, prompts) */
  repeatable?: boolean;
}

export interface NumberOption extends OptionCommon {
  type: 'number' | 'integer';
  default?: number;
  min?: number;
  max?: number;
  /** the bound itself is excluded: (min, …) */
  exclusiveMin?: boolean;
  exclusiveMax?: boolean;
  /** "inf" (or "infinity", "∞") is a value: no limit */
  infinity?: boolean;
}

export interface BooleanOption extends OptionCommon {
  type: 'boolean';
  default?: boolean;
}

/** Comma-separated values, also repeatable: `--attacks a,b --attacks c` is [a, b, c]. */
export interface ListOption extends OptionCommon {
  type: 'list';
  items?: 'string' | 'integer' | 'number';
  default?: readonly (string | number)[];
  choices?: readonly string[];
  /** numeric items: the smallest allowed */
  min?: number;
}

export type OptionSpec = StringOption | NumberOption | BooleanOption | ListOption;
export type OptionSpecs = Readonly<Record<string, OptionSpec>>;

type ChoiceOf<S> = S extends { choices: readonly (infer C)[] } ? C : string;
type ValueOf<S> = S extends { type: 'string' }
  ? S extends { repeatable: true }
    ? ChoiceOf<S>[]
    : ChoiceOf<S>
  : S extends { type: 'number' | 'integer' }
    ? number
    : S extends { type: 'boolean' }
      ? boolean
      : S extends { items: 'integer' | 'number' }
        ? number[]
        : ChoiceOf<S>[];
type AlwaysSet<S> = S extends
  { default: unknown } | { required: true } | { type: 'boolean' | 'list' } | { repeatable: true }
  ? true
  : false;

/** The typed values of a spec: lists and booleans are always set, others when required or defaulted. */
export type OptionValues<S extends OptionSpecs> = {
  -readonly [K in keyof S]: AlwaysSet<S[K]> extends true ? ValueOf<S[K]> : ValueOf<S[K]> | undefined;
};

export const flagOf = (key: string, spec: OptionSpec): string =>
  spec.flag ?? key.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase());

const INFINITY_WORDS = /^(inf|infinity|∞)$/i;
const NUMBER_TEXT = /^[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i;

/** What an option's value must be, in words: "an integer ≥ 1", "a number in (0, 1]", "one of zs, fs". */
export function expectation(spec: OptionSpec): string {
  switch (spec.type) {
    case 'boolean':
      return 'true or false';
    case 'string':
      return spec.choices ? `one of ${spec.choices.join(', ')}` : 'a text value';
    case 'list': {
      if (spec.choices) return `a comma-separated list of ${spec.choices.join(', ')}`;
      const of = spec.items === 'integer' ? 'integers' : spec.items === 'number' ? 'numbers' : 'values';
      return `a comma-separated list of ${of}${spec.min !== undefined ? ` ≥ ${spec.min}` : ''}`;
    }
    default: {
      const { min, max } = spec;
      if (
        max === undefined &&
        min === (spec.type === 'integer' ? 1 : 0) &&
        (spec.type === 'integer') !== !!spec.exclusiveMin
      )
        return `a positive ${spec.type}${spec.infinity ? ' (or inf)' : ''}`;
      const kind = spec.type === 'integer' ? 'an integer' : 'a number';
      let range = '';
      if (min !== undefined && max !== undefined)
        range = ` in ${spec.exclusiveMin ? '(' : '['}${min}, ${max}${spec.exclusiveMax ? ')' : ']'}`;
      else if (min !== undefined) range = ` ${spec.exclusiveMin ? '>' : '≥'} ${min}`;
      else if (max !== undefined) range = ` ${spec.exclusiveMax ? '<' : '≤'} ${max}`;
      return `${kind}${range}${spec.infinity ? ' (or inf)' : ''}`;
    }
  }
}

/** The JSON Schema of one option's value (after text values were parsed). */
export function optionSchema(spec: OptionSpec): Record<string, unknown> {
  switch (spec.type) {
    case 'boolean':
      return { type: 'boolean' };
    case 'string': {
      const one = spec.choices ? { type: 'string', enum: [...spec.choices] } : { type: 'string' };
      return spec.repeatable ? { type: 'array', items: one } : one;
    }
    case 'list': {
      const item: Record<string, unknown> =
        spec.items === 'integer' || spec.items === 'number' ? { type: spec.items } : { type: 'string' };
      if (spec.choices) item.enum = [...spec.choices];
      if (spec.min !== undefined) item.minimum = spec.min;
      return { type: 'array', items: item };
    }
    default: {
      const schema: Record<string, unknown> = { type: spec.type };
      if (spec.min !== undefined) schema[spec.exclusiveMin ? 'exclusiveMinimum' : 'minimum'] = spec.min;
      if (spec.max !== undefined) schema[spec.exclusiveMax ? 'exclusiveMaximum' : 'maximum'] = spec.max;
      return spec.infinity ? { anyOf: [schema, { const: 'inf' }] } : schema;
    }
  }
}

/** The JSON Schema of an object holding these options (unknown keys refused). */
export function optionsSchema(specs: OptionSpecs): Record<string, unknown> {
  return {
    type: 'object',
    additionalProperties: false,
    properties: Object.fromEntries(Object.entries(specs).map(([key, spec]) => [key, optionSchema(spec)])),
    required: Object.entries(specs)
      .filter(([, spec]) => spec.required)
      .map(([key]) => key),
  };
}

/** How errors name an option: "--top-p" on the command line, `settings.topP` in a config file. */
export interface OptionNaming {
  /** "flag" or "key": how the missing one is called */
  noun: string;
  name(key: string): string;
  where(key: string): ErrorWhere;
}

export const flagNaming = (specs: OptionSpecs): OptionNaming => ({
  noun: 'flag',
  name: (key) => `--${specs[key] ? flagOf(key, specs[key]) : key}`,
  where: () => ({}),
});

const show = (v: unknown) => (typeof v === 'string' ? `"${v}"` : JSON.stringify(v));

/**
 * A text value (a flag's) as the option's type: numbers and booleans parsed, lists split at
 * commas. Values that already have their type (from a JSON or YAML file) pass through.
 */
function fromText(spec: OptionSpec, value: unknown, fail: (given: unknown) => never): unknown {
  const scalar = (text: unknown, type: 'string' | 'number' | 'integer' | 'boolean' | undefined): unknown => {
    if (typeof text !== 'string') return text;
    if (type === 'boolean') return text === 'true' ? true : text === 'false' ? false : fail(text);
    if (type === 'number' || type === 'integer') {
      if (INFINITY_WORDS.test(text.trim()) && spec.type !== 'list' && (spec as NumberOption).infinity) return 'inf';
      return NUMBER_TEXT.test(text.trim()) ? Number(text) : fail(text);
    }
    return text;
  };
  switch (spec.type) {
    case 'list': {
      const items = (Array.isArray(value) ? value : [value]).flatMap((v) =>
        typeof v === 'string' ? v.split(',').map((s) => s.trim()) : [v],
      );
      return items.map((v) => scalar(v, spec.items ?? 'string'));
    }
    case 'string':
      if (spec.repeatable) return (Array.isArray(value) ? value : [value]).map((v) => scalar(v, 'string'));
      return typeof value === 'number' || typeof value === 'boolean' ? String(value) : value;
    default:
      return scalar(value, spec.type);
  }
}

const validators = new WeakMap<OptionSpecs, ReturnType<Ajv['compile']>>();
const ajv = new Ajv({ allErrors: false, strict: false });

function validatorOf(specs: OptionSpecs) {
  let validate = validators.get(specs);
  if (!validate) {
    validate = ajv.compile(optionsSchema(specs));
    validators.set(specs, validate);
  }
  return validate;
}

/** The option an ajv error is about: the first path segment, or the key a required/unknown error names. */
function keyOf(error: ErrorObject): string {
  if (error.keyword === 'additionalProperties')
    return (error.params as { additionalProperty: string }).additionalProperty;
  if (error.keyword === 'required') return (error.params as { missingProperty: string }).missingProperty;
  return decodeURIComponent(error.instancePath.split('/')[1] ?? '');
}

/**
 * Typed values from raw ones (text from flags, or JSON/YAML values): parsed, defaults filled,
 * validated against the schema. The first problem is an input error naming the option, what was
 * expected and what was given.
 */
export function resolveOptions<S extends OptionSpecs>(
  specs: S,
  raw: Readonly<Record<string, unknown>>,
  naming: OptionNaming = flagNaming(specs),
): OptionValues<S> {
  const values: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(raw)) {
    if (value === undefined) continue;
    const spec = specs[key];
    if (!spec) {
      values[key] = value; // reported as an unknown key by the schema
      continue;
    }
    if (spec.type === 'list')
      for (const text of (Array.isArray(value) ? value : [value]).filter((v) => typeof v === 'string'))
        if (text.split(',').some((part: string) => part.trim() === ''))
          throw inputError(
            `${naming.name(key)} has an empty entry in "${text}" (expected ${expectation(spec)})`,
            naming.where(key),
          );
    values[key] = fromText(spec, value, (given) => {
      throw inputError(`${naming.name(key)} expects ${expectation(spec)}, got ${show(given)}`, naming.where(key));
    });
  }
  const validate = validatorOf(specs);
  if (!validate(values)) {
    const error = validate.errors![0];
    const key = keyOf(error);
    const spec = specs[key];
    if (error.keyword === 'additionalProperties')
      throw inputError(
        `unknown ${naming.noun} ${naming.name(key)} (expected one of: ${Object.keys(specs)
          .map((k) => naming.name(k))
          .join(', ')})`,
        naming.where(key),
      );
    if (error.keyword === 'required')
      throw inputError(`missing required ${naming.noun} ${naming.name(key)}`, naming.where(key));
    // a list's offending item rather than the whole list
    const item = error.instancePath.split('/')[2];
    const given = item === undefined ? raw[key] : (values[key] as unknown[])[Number(item)];
    throw inputError(`${naming.name(key)} expects ${expectation(spec)}, got ${show(given)}`, naming.where(key));
  }
  for (const [key, spec] of Object.entries(specs)) {
    if (values[key] === 'inf') values[key] = Infinity;
    if (values[key] !== undefined) continue;
    if (spec.default !== undefined) values[key] = Array.isArray(spec.default) ? [...spec.default] : spec.default;
    else if (spec.type === 'boolean') values[key] = false;
    else if (spec.type === 'list' || (spec.type === 'string' && spec.repeatable)) values[key] = [];
  }
  return values as OptionValues<S>;
}

/** The values of the options that make a run what it is (see `identity`), for its resume check. */
export function identityOf(specs: OptionSpecs, values: Readonly<Record<string, unknown>>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(specs)
      .filter(([key, spec]) => spec.identity !== false && values[key] !== undefined)
      .map(([key, spec]) => [flagOf(key, spec), values[key] === Infinity ? 'inf' : values[key]]),
  );
}
