import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { Ajv, type ErrorObject } from 'ajv';
import YAML from 'yaml';
import { inputError } from '../errors.ts';
import { isRemoteRef } from '../lm/model-ref.ts';
import { STEER_METHODS, type SteerMethod } from '../decode/steer-method.ts';

export const GUIDED_ROLES = ['large', 'tuned', 'untuned', 'base', 'aligned', 'value'] as const;
export type GuidedRole = (typeof GUIDED_ROLES)[number];
export const BON_SCORERS = ['log-ratio', 'vader', 'afinn'] as const;

/**
 * A guided model: a steering method from decode/ and the models it combines. Served under a
 * name, clients call it like any model. Example (yaml):
 *
 *     method: w2s
 *     models: { large: ./big-model, tuned: ./small-tuned, untuned: ./small }
 *     settings: { beams: 4, successors: 4, chunkLength: 5 }
 *
 * Relative model paths are resolved from the config file's folder.
 */
export interface GuidedConfig {
  method: SteerMethod;
  models: Partial<Record<GuidedRole, string>>;
  /** tokenizer for local checkpoints that have none beside them */
  tokenizer?: string;
  settings: {
    beams?: number;
    successors?: number;
    chunkLength?: number;
    n?: number;
    beta?: number;
    alpha?: number;
    family?: string;
    bonScorer?: (typeof BON_SCORERS)[number];
    formats?: Partial<Record<Exclude<GuidedRole, 'value'>, string>>;
  };
  description?: string;
}

const positiveInt = { type: 'integer', minimum: 1 };
const schema = {
  type: 'object',
  additionalProperties: false,
  required: ['method', 'models'],
  properties: {
    method: { enum: [...STEER_METHODS] },
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
      additionalProperties: false,
      properties: {
        beams: positiveInt,
        successors: positiveInt,
        chunkLength: positiveInt,
        n: positiveInt,
        beta: { type: 'number' },
        alpha: { type: 'number' },
        family: { type: 'string' },
        bonScorer: { enum: [...BON_SCORERS] },
        formats: {
          type: 'object',
          additionalProperties: false,
          properties: Object.fromEntries(GUIDED_ROLES.filter((r) => r !== 'value').map((r) => [r, { type: 'string' }])),
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

/** The models each method needs (alternatives: any one of the roles in an inner list). */
function requiredRoles(config: GuidedConfig): GuidedRole[][] {
  const pair: GuidedRole[][] = [['tuned'], ['untuned']];
  switch (config.method) {
    case 'sample':
      return [['large']];
    case 'bon':
      return (config.settings.bonScorer ?? 'log-ratio') === 'log-ratio' ? [['large'], ...pair] : [['large']];
    case 'eft':
    case 'w2s':
      return [['large'], ...pair];
    case 'ed':
      return [
        ['base', 'large'],
        ['aligned', 'tuned'],
      ];
    case 'ivg':
      return [['large'], ['value']];
  }
}

/** Validates a parsed config; `file` is named in errors. */
export function parseGuidedConfig(value: unknown, file: string): GuidedConfig {
  if (!validate(value))
    throw inputError(describeError(validate.errors![0]).message, {
      file,
      field: describeError(validate.errors![0]).field,
    });
  const config = value as unknown as GuidedConfig;
  config.settings ??= {};
  for (const alternatives of requiredRoles(config)) {
    if (!alternatives.some((role) => config.models[role])) {
      throw inputError(`method ${config.method} needs this model`, {
        file,
        field: `models.${alternatives.join(' or models.')}`,
      });
    }
  }
  return config;
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
