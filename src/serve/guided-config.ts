import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { Ajv, type ErrorObject } from 'ajv';
import YAML from 'yaml';
import { inputError } from '../errors.ts';
import { resolveOptions } from '../util/option-spec.ts';
import { isRemoteRef } from '../lm/model-ref.ts';
import { STEER_METHOD_NAMES, STEER_ROLES, steerMethodNamed, type SteerRole } from '../decode/steer-methods/index.ts';

export const GUIDED_ROLES = STEER_ROLES;
export type GuidedRole = SteerRole;
const FORMAT_ROLES = GUIDED_ROLES.filter((r) => r !== 'value');

/**
 * A guided model: a steering method from decode/ and the models it combines. Served under a
 * name, clients call it like any model. Example (yaml):
 *
 *     method: w2s
 *     models: { large: ./big-model, tuned: ./small-tuned, untuned: ./small }
 *     settings: { beams: 4, successors: 4, chunkLength: 5 }
 *
 * `settings` are the method's own (decode/steer-methods/: the same keys as the `steer` flags,
 * camelCase), plus `formats` (how each model sees the prompt). Relative model paths are resolved
 * from the config file's folder.
 */
export interface GuidedConfig {
  method: string;
  models: Partial<Record<GuidedRole, string>>;
  /** tokenizer for local checkpoints that have none beside them */
  tokenizer?: string;
  /** the method's settings, validated by its spec (defaults filled in), and the prompt formats */
  settings: Record<string, unknown> & { formats?: Partial<Record<Exclude<GuidedRole, 'value'>, string>> };
  description?: string;
}

const schema = {
  type: 'object',
  additionalProperties: false,
  required: ['method', 'models'],
  properties: {
    method: { enum: [...STEER_METHOD_NAMES] },
    description: { type: 'string' },
    tokenizer: { type: 'string', minLength: 1 },
    models: {
      type: 'object',
      additionalProperties: false,
      minProperties: 1,
      properties: Object.fromEntries(GUIDED_ROLES.map((r) => [r, { type: 'string', minLength: 1 }])),
    },
    settings: {
      type: 'object',
      properties: {
        formats: {
          type: 'object',
          additionalProperties: false,
          properties: Object.fromEntries(FORMAT_ROLES.map((r) => [r, { type: 'string' }])),
        },
      },
    },
  },
} as const;

const validate = new Ajv({ allErrors: false }).compile(schema);

/** ajv's first error as "field" + "what was expected". */
function describeError(error: ErrorObject): { field: string; message: string } {
  const path = error.instancePath.replace(/^\//, '').replace(/\//g, '.');
  if (error.keyword === 'additionalProperties') {
    const key = (error.params as { additionalProperty: string }).additionalProperty;
    return { field: path ? `${path}.${key}` : key, message: 'unknown key' };
  }
  if (error.keyword === 'required') {
    const key = (error.params as { missingProperty: string }).missingProperty;
    return { field: path ? `${path}.${key}` : key, message: 'is required' };
  }
  if (error.keyword === 'enum') {
    return {
      field: path,
      message: `must be one of ${(error.params as { allowedValues: unknown[] }).allowedValues.join(', ')}`,
    };
  }
  return { field: path || '(top level)', message: error.message ?? 'is invalid' };
}

/** Validates a parsed config; `file` is named in errors. */
export function parseGuidedConfig(value: unknown, file: string): GuidedConfig {
  if (!validate(value))
    throw inputError(describeError(validate.errors![0]).message, {
      file,
      field: describeError(validate.errors![0]).field,
    });
  const parsed = value as { method: string; models: GuidedConfig['models']; settings?: Record<string, unknown> };
  const method = steerMethodNamed(parsed.method);
  const { formats, ...own } = parsed.settings ?? {};
  const settings = resolveOptions(method.settings, own, {
    noun: 'key',
    name: (key) => `settings.${key}`,
    where: (key) => ({ file, field: `settings.${key}` }),
  });
  for (const [first, ...others] of method.requires(settings)) {
    if (first === 'reward')
      throw inputError(`method ${method.name} needs a gold reward with these settings, which a guided model has not`, {
        file,
        field: 'settings',
      });
    if (![first, ...others].some((role) => parsed.models[role as GuidedRole]))
      throw inputError(`method ${method.name} needs this model`, {
        file,
        field: [first, ...others].map((r) => `models.${r}`).join(' or '),
      });
  }
  return { ...(value as GuidedConfig), settings: { ...settings, ...(formats ? { formats } : {}) } };
}

/** Reads a yaml/json guided config; relative local model and tokenizer paths become relative to its folder. */
export function readGuidedConfig(file: string): GuidedConfig {
  let parsed: unknown;
  try {
    const text = readFileSync(file, 'utf8');
    parsed = file.endsWith('.json') ? JSON.parse(text) : YAML.parse(text);
  } catch (e) {
    throw inputError(`cannot read the guided-model config (${(e as Error).message})`, { file });
  }
  const config = parseGuidedConfig(parsed, file);
  const local = (p: string) => (isRemoteRef(p) || isAbsolute(p) ? p : resolve(dirname(file), p));
  for (const role of GUIDED_ROLES) if (config.models[role]) config.models[role] = local(config.models[role]!);
  if (config.tokenizer) config.tokenizer = local(config.tokenizer);
  return config;
}
