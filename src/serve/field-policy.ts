import { badRequest } from './errors.ts';
import type { RequestFields } from './request-fields.ts';

/**
 * What the gateway does with each field of the OpenAI specification's request bodies, so that
 * none is silently dropped when it would change what the client gets:
 *
 * - `'read'`: the endpoint's handler reads and honours it;
 * - `metadata`: it changes nothing in the output (`user`, `metadata`, `store`, …): type-checked,
 *   then ignored;
 * - `refused`: the gateway cannot honour it (tools, audio, penalties, …): accepted only at a
 *   value that asks for nothing (absent, null, its neutral value), otherwise a 400 that says why.
 *
 * Fields outside these tables (other servers' extensions) are ignored, as vLLM does.
 */
export type FieldRule =
  | 'read'
  | { metadata: (fields: RequestFields, name: string) => void }
  | {
      refused: string;
      /** the values that ask for nothing the gateway cannot do */
      neutral: (value: unknown) => boolean;
      /** the specification's type/range check, run first (an invalid value is invalid, not unsupported) */
      check?: (fields: RequestFields, name: string) => void;
    };

export type FieldRules = Readonly<Record<string, FieldRule>>;

/** Applies the metadata checks and refusals of `rules` (the 'read' fields are the handler's). */
export function applyFieldRules(fields: RequestFields, rules: FieldRules): void {
  for (const [name, rule] of Object.entries(rules)) {
    if (rule === 'read' || !fields.has(name)) continue;
    if ('metadata' in rule) {
      rule.metadata(fields, name);
      continue;
    }
    rule.check?.(fields, name);
    if (!rule.neutral(fields.raw(name))) throw refusedField(name, rule.refused);
  }
}

/** A 400 for a field the gateway cannot honour, saying why. */
export const refusedField = (name: string, why: string) =>
  badRequest(`"${name}" is not supported by this server: ${why}`, name, 'unsupported_parameter');

const read = (...names: string[]): FieldRules => Object.fromEntries(names.map((name) => [name, 'read' as const]));

const isString = (f: RequestFields, name: string) => void f.string(name);
const isBool = (f: RequestFields, name: string) => void f.bool(name, false);
const isInt = (f: RequestFields, name: string) => void f.int(name, undefined);
const isObject = (f: RequestFields, name: string) => void f.object(name);
const oneOf =
  (...allowed: string[]) =>
  (f: RequestFields, name: string) =>
    void f.choice(name, allowed);
const emptyList = (v: unknown) => Array.isArray(v) && v.length === 0;
const emptyObject = (v: unknown) =>
  typeof v === 'object' && v !== null && !Array.isArray(v) && Object.keys(v).length === 0;
const never = () => false;
const penalty = {
  refused: 'penalties are not implemented (only 0 is accepted)',
  neutral: (v: unknown) => v === 0,
  check: (f: RequestFields, name: string) => void f.number(name, undefined, { min: -2, max: 2 }),
};
const noTools = { refused: 'this server has no tool calling', neutral: emptyList };
const noReasoning = (v: unknown) => v === 'none';
const TEXT_FORMAT = 'only plain text output ({"type": "text"}) is available';

/** Fields that never change the generated output, shared by the three generation endpoints. */
const METADATA: FieldRules = {
  user: { metadata: isString },
  metadata: { metadata: (f, name) => void f.map(name, 'string') },
  store: { metadata: isBool },
  service_tier: { metadata: oneOf('auto', 'default', 'flex', 'scale', 'priority', 'fast') },
  safety_identifier: { metadata: (f, name) => void f.string(name, { maxLength: 64 }) },
  prompt_cache_key: { metadata: isString },
  prompt_cache_retention: { metadata: oneOf('in_memory', '24h') },
  prompt_cache_options: { metadata: isObject },
  parallel_tool_calls: { metadata: isBool },
};

/** POST /v1/completions */
export const COMPLETION_FIELDS: FieldRules = {
  ...read('model', 'prompt', 'max_tokens', 'temperature', 'top_p', 'n', 'best_of', 'stop', 'seed', 'stream'),
  ...read('stream_options', 'logprobs', 'echo'),
  user: METADATA.user,
  frequency_penalty: penalty,
  presence_penalty: penalty,
  logit_bias: { refused: 'logit biases are not implemented', neutral: emptyObject },
  suffix: { refused: 'insertion (a suffix) is not implemented', neutral: (v) => v === '' },
};

/** POST /v1/chat/completions */
export const CHAT_FIELDS: FieldRules = {
  ...METADATA,
  ...read('model', 'messages', 'max_tokens', 'max_completion_tokens', 'temperature', 'top_p', 'n', 'stop', 'seed'),
  ...read('stream', 'stream_options', 'logprobs', 'top_logprobs'),
  frequency_penalty: penalty,
  presence_penalty: penalty,
  logit_bias: { refused: 'logit biases are not implemented', neutral: emptyObject },
  tools: noTools,
  tool_choice: { ...noTools, neutral: (v) => v === 'none' || v === 'auto' },
  functions: noTools,
  function_call: { ...noTools, neutral: (v) => v === 'none' || v === 'auto' },
  response_format: { refused: TEXT_FORMAT, neutral: (v) => (v as { type?: unknown })?.type === 'text' },
  modalities: {
    refused: 'the only output modality is text',
    neutral: (v) => Array.isArray(v) && v.every((m) => m === 'text'),
  },
  audio: { refused: 'there is no audio output', neutral: never },
  prediction: { refused: 'predicted outputs are not implemented', neutral: never },
  web_search_options: { refused: 'there is no web search', neutral: never },
  reasoning_effort: { refused: 'the models served do not reason before answering (only "none")', neutral: noReasoning },
  verbosity: { refused: 'output length follows max_tokens only (only "medium")', neutral: (v) => v === 'medium' },
  moderation: { refused: 'there is no moderation', neutral: never },
};

/** POST /v1/responses */
export const RESPONSE_FIELDS: FieldRules = {
  ...METADATA,
  ...read('model', 'input', 'instructions', 'max_output_tokens', 'temperature', 'top_p', 'stream', 'text'),
  stream_options: { metadata: (f, name) => void f.flags(name, ['include_obfuscation']) },
  max_tool_calls: { metadata: isInt },
  tools: noTools,
  tool_choice: { ...noTools, neutral: (v) => v === 'none' || v === 'auto' },
  top_logprobs: {
    refused: 'log-probs are not returned by /v1/responses here (use /v1/chat/completions)',
    neutral: (v) => v === 0,
  },
  include: { refused: 'no extra output can be included', neutral: emptyList },
  previous_response_id: { refused: 'responses are not stored; send the whole conversation as input', neutral: never },
  conversation: { refused: 'conversations are not stored; send the whole conversation as input', neutral: never },
  prompt: { refused: 'there are no stored prompt templates', neutral: never },
  background: { refused: 'there is no background mode', neutral: (v) => v === false },
  truncation: { refused: 'inputs are never truncated (only "disabled")', neutral: (v) => v === 'disabled' },
  reasoning: {
    refused: 'the models served do not reason before answering',
    neutral: (v) => emptyObject(v) || noReasoning((v as { effort?: unknown })?.effort),
  },
  context_management: { refused: 'there is no context management', neutral: never },
  moderation: { refused: 'there is no moderation', neutral: never },
};
