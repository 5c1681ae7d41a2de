import { readFileSync } from 'node:fs';
import assert from 'node:assert/strict';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import { postJsonWith, type PostAnswer } from './serve-fixtures.ts';

/**
 * The OpenAI specification's schemas (test/fixtures/openai-openapi, vendored from
 * openai/openai-openapi with scripts/vendor-openai-schemas.ts), and a recorder that checks every
 * body and every streamed event a test receives from the gateway against them.
 */
const document = JSON.parse(readFileSync('test/fixtures/openai-openapi/schemas.json', 'utf8'));
const ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: false });
ajv.addSchema(document);

/**
 * Where the specification does not describe what OpenAI's API itself sends, the schema is
 * widened here, and only here: the legacy completions stream has no schema of its own (its
 * chunks are completion objects whose finish_reason is null until the last, and whose usage is
 * null but in the last with stream_options.include_usage), and an echoed prompt's first token
 * has no log-prob (null in token_logprobs and top_logprobs), which the schema's number-only
 * arrays leave out.
 */
function completionSchema(stream: boolean): object {
  const base = structuredClone(document.$defs.CreateCompletionResponse);
  const choice = base.properties.choices.items.properties;
  const logprobs = choice.logprobs.anyOf[0].properties;
  logprobs.token_logprobs.items = { type: ['number', 'null'] };
  logprobs.top_logprobs.items = { anyOf: [logprobs.top_logprobs.items, { type: 'null' }] };
  if (stream) {
    choice.finish_reason = { anyOf: [choice.finish_reason, { type: 'null' }] };
    base.properties.usage = { anyOf: [base.properties.usage, { type: 'null' }] };
  }
  return { $id: `alignkit-test/completion${stream ? '-chunk' : ''}`, $defs: document.$defs, ...base };
}
ajv.addSchema(completionSchema(false));
ajv.addSchema(completionSchema(true));

const validators = new Map<string, ValidateFunction>();
function validator(name: string): ValidateFunction {
  let v = validators.get(name);
  if (!v) {
    v =
      name === 'completion' || name === 'completion-chunk'
        ? ajv.getSchema(`alignkit-test/${name}`)!
        : ajv.getSchema(`${document.$id}#/$defs/${name}`)!;
    assert.ok(v, `no schema ${name}`);
    validators.set(name, v);
  }
  return v;
}

/** The problems the specification's schema `name` finds in `value` (none: []). */
export function specProblems(name: string, value: unknown): string[] {
  const v = validator(name);
  if (v(value)) return [];
  return (v.errors ?? []).slice(0, 5).map((e) => `${name}${e.instancePath} ${e.message} ${JSON.stringify(e.params)}`);
}

export function assertMatchesSpec(name: string, value: unknown): void {
  assert.deepEqual(specProblems(name, value), [], JSON.stringify(value).slice(0, 2000));
}

/** Whether the specification's request schema accepts a request body. */
export function specAccepts(
  name: 'CreateCompletionRequest' | 'CreateChatCompletionRequest' | 'CreateResponse',
  body: unknown,
) {
  return validator(name)(body);
}

/** Server-sent events: each `event:` name (or null) and its `data`. */
export function parseSse(text: string): { event: string | null; data: string }[] {
  return text
    .split('\n\n')
    .filter((block) => block.trim())
    .map((block) => {
      let event: string | null = null;
      const data: string[] = [];
      for (const line of block.split('\n')) {
        if (line.startsWith('event: ')) event = line.slice(7);
        else if (line.startsWith('data: ')) data.push(line.slice(6));
      }
      return { event, data: data.join('\n') };
    });
}

const ROUTES: [RegExp, { body: string; chunk: string }][] = [
  [/\/v1\/chat\/completions$/, { body: 'CreateChatCompletionResponse', chunk: 'CreateChatCompletionStreamResponse' }],
  [/\/v1\/completions$/, { body: 'completion', chunk: 'completion-chunk' }],
  [/\/v1\/responses$/, { body: 'Response', chunk: 'event' }],
];

/** The Responses API's events by type. */
const RESPONSE_EVENTS: Record<string, string> = {
  'response.created': 'ResponseCreatedEvent',
  'response.in_progress': 'ResponseInProgressEvent',
  'response.output_item.added': 'ResponseOutputItemAddedEvent',
  'response.content_part.added': 'ResponseContentPartAddedEvent',
  'response.output_text.delta': 'ResponseTextDeltaEvent',
  'response.output_text.done': 'ResponseTextDoneEvent',
  'response.content_part.done': 'ResponseContentPartDoneEvent',
  'response.output_item.done': 'ResponseOutputItemDoneEvent',
  'response.completed': 'ResponseCompletedEvent',
  'response.incomplete': 'ResponseIncompleteEvent',
  'response.failed': 'ResponseFailedEvent',
  error: 'ResponseErrorEvent',
};

/** Checks one HTTP answer of a generation route; returns the problems found. */
export function checkAnswer(url: string, status: number, contentType: string, text: string): string[] {
  const route = ROUTES.find(([path]) => path.test(new URL(url).pathname))?.[1];
  if (!route) return [];
  if (status !== 200) return specProblems('ErrorResponse', JSON.parse(text));
  if (!contentType.startsWith('text/event-stream')) return specProblems(route.body, JSON.parse(text));
  const problems: string[] = [];
  for (const { event, data } of parseSse(text)) {
    if (data === '[DONE]') continue;
    const value = JSON.parse(data);
    if (value.error && !event) problems.push(...specProblems('ErrorResponse', value));
    else if (route.chunk === 'event') {
      const name = RESPONSE_EVENTS[String(value.type)];
      if (!name || event !== value.type) problems.push(`unexpected event ${event} / ${value.type}`);
      else problems.push(...specProblems(name, value));
    } else problems.push(...specProblems(route.chunk, value));
  }
  return problems;
}

/**
 * A `fetch` for clients (the official openai client takes one) that checks every answer of the
 * generation routes against the specification on the side: `bodies`/`events` count what was
 * checked, `assertClean` waits for streams still being read and fails on any problem.
 */
export class SpecRecorder {
  readonly problems: string[] = [];
  checked = { bodies: 0, streams: 0 };
  private readonly pending: Promise<void>[] = [];

  readonly fetch: typeof fetch = async (input, init) => {
    const response = await fetch(input, init);
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    const copy = response.clone();
    const type = response.headers.get('content-type') ?? '';
    this.pending.push(
      copy.text().then(
        (text) => {
          if (type.startsWith('text/event-stream')) this.checked.streams++;
          else this.checked.bodies++;
          this.problems.push(...checkAnswer(url, response.status, type, text));
        },
        () => undefined, // a stream the client abandoned
      ),
    );
    return response;
  };

  /** POST a JSON body through the checking fetch; the parsed answer. */
  postJson(url: string, body: unknown, headers: Record<string, string> = {}): Promise<PostAnswer> {
    return postJsonWith(this.fetch, url, body, headers);
  }

  async assertClean(): Promise<void> {
    await Promise.all(this.pending);
    assert.deepEqual(this.problems, []);
  }
}

/** The property names a request schema declares, through its allOf and $ref parts. */
export function specProperties(name: string): string[] {
  const names = new Set<string>();
  const visit = (schema: any) => {
    if (!schema || typeof schema !== 'object') return;
    if (schema.$ref) visit(document.$defs[String(schema.$ref).replace('#/$defs/', '')]);
    for (const part of schema.allOf ?? []) visit(part);
    for (const key of Object.keys(schema.properties ?? {})) names.add(key);
  };
  visit(document.$defs[name]);
  return [...names].sort();
}
