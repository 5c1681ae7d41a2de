/**
 * Vendors the schemas the gateway's tests validate against from OpenAI's OpenAPI document
 * (github.com/openai/openai-openapi, `openapi.json`) into test/fixtures/openai-openapi/.
 *
 *     node --import tsx scripts/vendor-openai-schemas.ts PATH/TO/openapi.json COMMIT
 *
 * Only the named roots and what they reference are kept, as one JSON Schema 2020-12 document
 * with the components under `$defs`. Documentation keys (description, examples, x-oai*) are
 * dropped; two OpenAPI-isms are translated so that a standard validator reads them as the
 * document means them: `nullable: true` (an OpenAPI 3.0 keyword the 3.1 document still uses)
 * becomes `anyOf: [schema, {type: null}]`, and draft 2019-09's `$recursiveRef: "#"` becomes a
 * `$ref` to the schema that holds it.
 */
import { writeFileSync, readFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';

const ROOTS = [
  'CreateCompletionRequest',
  'CreateCompletionResponse',
  'CreateChatCompletionRequest',
  'CreateChatCompletionResponse',
  'CreateChatCompletionStreamResponse',
  'CreateResponse',
  'Response',
  'ResponseCreatedEvent',
  'ResponseInProgressEvent',
  'ResponseOutputItemAddedEvent',
  'ResponseContentPartAddedEvent',
  'ResponseTextDeltaEvent',
  'ResponseTextDoneEvent',
  'ResponseContentPartDoneEvent',
  'ResponseOutputItemDoneEvent',
  'ResponseCompletedEvent',
  'ResponseIncompleteEvent',
  'ResponseFailedEvent',
  'ResponseErrorEvent',
  'ErrorResponse',
];
const DROPPED = new Set(['description', 'example', 'examples', 'title', 'deprecated']);
const PREFIX = '#/components/schemas/';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

function refsOf(value: Json, out: Set<string>): void {
  if (Array.isArray(value)) value.forEach((v) => refsOf(v, out));
  else if (value && typeof value === 'object')
    for (const [k, v] of Object.entries(value)) {
      if (k === '$ref' && typeof v === 'string') out.add(v.slice(PREFIX.length));
      else refsOf(v, out);
    }
}

function translate(value: Json, owner: string): Json {
  if (Array.isArray(value)) return value.map((v) => translate(v, owner));
  if (!value || typeof value !== 'object') return value;
  const out: { [k: string]: Json } = {};
  for (const [k, v] of Object.entries(value)) {
    if (DROPPED.has(k) || k.startsWith('x-') || k === '$recursiveAnchor' || k === 'nullable') continue;
    if (k === '$ref' && typeof v === 'string') out.$ref = `#/$defs/${v.slice(PREFIX.length)}`;
    else if (k === '$recursiveRef') out.$ref = `#/$defs/${owner}`;
    else if (k === 'const' || k === 'enum' || k === 'default') out[k] = v;
    // property maps keep every key, even one named like a dropped keyword
    else if (k === 'properties' && v && typeof v === 'object' && !Array.isArray(v))
      out[k] = Object.fromEntries(Object.entries(v).map(([name, s]) => [name, translate(s, owner)]));
    else out[k] = translate(v, owner);
  }
  if ((value as { nullable?: unknown }).nullable === true) return { anyOf: [out, { type: 'null' }] };
  return out;
}

const [file, commit] = process.argv.slice(2);
if (!file || !commit) throw new Error('usage: vendor-openai-schemas.ts PATH/TO/openapi.json COMMIT');
const spec = JSON.parse(readFileSync(file, 'utf8'));
const all: Record<string, Json> = spec.components.schemas;
const kept = new Set<string>();
const todo = [...ROOTS];
while (todo.length) {
  const name = todo.pop()!;
  if (kept.has(name)) continue;
  if (!(name in all)) throw new Error(`${name} is not in the document`);
  kept.add(name);
  const refs = new Set<string>();
  refsOf(all[name], refs);
  todo.push(...refs);
}
const defs = Object.fromEntries([...kept].sort().map((name) => [name, translate(all[name], name)]));
const out = join('test', 'fixtures', 'openai-openapi');
mkdirSync(out, { recursive: true });
writeFileSync(
  join(out, 'schemas.json'),
  JSON.stringify(
    {
      $schema: 'https://json-schema.org/draft/2020-12/schema',
      $id: 'https://github.com/openai/openai-openapi/openapi.json',
      $comment: `components.schemas of openai/openai-openapi ${commit} (OpenAPI ${spec.openapi}, info.version ${spec.info.version}), roots: ${ROOTS.join(', ')}`,
      $defs: defs,
    },
    null,
    1,
  ) + '\n',
);
console.log(`${kept.size} schemas written to ${join(out, 'schemas.json')}`);
