import type { ServerResponse } from 'node:http';
import type { ChatMessage } from '../tokenizers/tokenizer.ts';
import { readMessages } from './chat-messages.ts';
import type { ChoiceResult } from './continuous-batcher.ts';
import { badRequest, type GatewayError } from './errors.ts';
import { RESPONSE_FIELDS, applyFieldRules, refusedField } from './field-policy.ts';
import { generate, generationBudget, type GenerationParams } from './generation.ts';
import { encodeChat } from './prompt-encoding.ts';
import { responseId, sendJson, streamHeaders, type RequestContext } from './request-context.ts';
import type { RequestFields } from './request-fields.ts';
import { readTemperatureTopP } from './sampling-fields.ts';
import type { ServedModel } from './served-model.ts';
import { SseStream } from './sse.ts';

/**
 * POST /v1/responses: the text subset of OpenAI's Responses API. Input is a string or a list of
 * messages (input_text / output_text parts, as clients send back earlier turns), `instructions`
 * a system message before them; one assistant message comes back. Nothing is stored: tools,
 * previous_response_id, conversations, background mode and non-text input are refused (see
 * RESPONSE_FIELDS).
 */
export async function responses(ctx: RequestContext): Promise<void> {
  const p = await plan(ctx);
  if (p.stream) return streamResponse(ctx, p);
  const [result] = await generate(p.served, p.ids, p.params, ctx.signal);
  sendJson(ctx.res, 200, responseObject(p, finished(result)));
}

interface ResponsePlan {
  id: string;
  messageId: string;
  createdAt: number;
  served: ServedModel;
  ids: number[];
  instructions: string | null;
  maxOutputTokens: number | null;
  metadata: Record<string, unknown>;
  toolChoice: unknown;
  params: GenerationParams;
  stream: boolean;
}

/** An input item's content: a string or a list of text parts (input_text, or output_text from an earlier answer). */
function itemContent(content: unknown, at: string): unknown {
  if (typeof content === 'string' || !Array.isArray(content)) return content;
  return content.map((part, j) => {
    const type = (part as { type?: unknown })?.type;
    if (type === 'input_text' || type === 'output_text')
      return { type: 'text', text: (part as { text?: unknown }).text };
    if (type === 'refusal') return part;
    throw refusedField(`${at}.content`, `only text reaches the model (${at}.content[${j}] is "${String(type)}")`);
  });
}

/** `input` as chat messages: a string is one user message; message items keep their role. */
function inputMessages(fields: RequestFields): ChatMessage[] {
  const input = fields.raw('input');
  if (typeof input === 'string') return [{ role: 'user', content: input }];
  if (!Array.isArray(input) || input.length === 0)
    throw badRequest('"input" must be a string or a non-empty list of messages', 'input');
  const messages = input.map((item, i) => {
    const at = `input[${i}]`;
    const type = (item as { type?: unknown })?.type ?? 'message';
    if (type !== 'message')
      throw refusedField(at, `only message items are understood here (this one is "${String(type)}")`);
    const { role, content } = item as { role?: unknown; content?: unknown };
    return { role, content: itemContent(content, at) };
  });
  return readMessages(messages, 'input');
}

async function plan(ctx: RequestContext): Promise<ResponsePlan> {
  const { body: fields, limits } = ctx;
  applyFieldRules(fields, RESPONSE_FIELDS);
  const served = ctx.models.get(fields.requiredString('model'));
  const format = fields.object('text')?.format as { type?: unknown } | undefined;
  if (format && format.type !== 'text')
    throw refusedField('text.format', 'only plain text output ({"type": "text"}) is available');
  const verbosity = fields.object('text')?.verbosity;
  if (verbosity != null && verbosity !== 'medium')
    throw refusedField('text.verbosity', 'output length follows max_output_tokens only (only "medium")');
  const instructions = fields.string('instructions') ?? null;
  const messages = inputMessages(fields);
  const requested = fields.int('max_output_tokens', undefined, {
    min: 16,
    max: limits.maxTokens,
    maxReason: "this server's --max-tokens",
  });
  const { temperature, topP } = readTemperatureTopP(fields);
  const stream = fields.bool('stream', false);
  const ids = await encodeChat(
    served,
    instructions === null ? messages : [{ role: 'system', content: instructions }, ...messages],
    'input',
  );
  const budget = generationBudget(served, ids.length, requested, limits.maxTokens, 'max_output_tokens');
  return {
    id: responseId('resp'),
    messageId: responseId('msg'),
    createdAt: Math.floor(Date.now() / 1000),
    served,
    ids,
    instructions,
    maxOutputTokens: requested ?? null,
    metadata: fields.map('metadata', 'string') ?? {},
    toolChoice: fields.raw('tool_choice') ?? 'auto',
    params: {
      n: 1,
      maxNewTokens: budget,
      temperature,
      topP,
      topK: 0,
      stop: [],
      logprobs: false,
      topLogprobs: 0,
    },
    stream,
  };
}

/** How a response ends: completed, or incomplete when the token limit cut it. */
interface Outcome {
  status: 'in_progress' | 'completed' | 'incomplete' | 'failed';
  text: string;
  result?: ChoiceResult;
  error?: { code: string; message: string };
}

const finished = (result: ChoiceResult): Outcome => ({
  status: result.finishReason === 'length' ? 'incomplete' : 'completed',
  text: result.text,
  result,
});

function outputText(text: string) {
  return { type: 'output_text', text, annotations: [], logprobs: [] };
}

function messageItem(p: ResponsePlan, outcome: Outcome) {
  return {
    id: p.messageId,
    type: 'message',
    role: 'assistant',
    status: outcome.status === 'failed' ? 'incomplete' : outcome.status,
    content: outcome.status === 'in_progress' ? [] : [outputText(outcome.text)],
  };
}

/** The Response object, as it stands at `outcome`. */
function responseObject(p: ResponsePlan, outcome: Outcome) {
  const done = outcome.status === 'completed' || outcome.status === 'incomplete';
  const outputTokens = outcome.result?.tokens.length ?? 0;
  return {
    id: p.id,
    object: 'response',
    created_at: p.createdAt,
    status: outcome.status,
    completed_at: done ? Math.floor(Date.now() / 1000) : null,
    error: outcome.error ?? null,
    incomplete_details: outcome.status === 'incomplete' ? { reason: 'max_output_tokens' } : null,
    instructions: p.instructions,
    max_output_tokens: p.maxOutputTokens,
    model: p.served.name,
    output: outcome.status === 'in_progress' ? [] : [messageItem(p, outcome)],
    parallel_tool_calls: true,
    previous_response_id: null,
    reasoning: null,
    store: false,
    temperature: p.params.temperature,
    text: { format: { type: 'text' } },
    tool_choice: p.toolChoice,
    tools: [],
    top_p: p.params.topP,
    truncation: 'disabled',
    metadata: p.metadata,
    // counts are known once generation is done (no prompt caching, no reasoning tokens)
    ...(done && {
      usage: {
        input_tokens: p.ids.length,
        input_tokens_details: { cached_tokens: 0, cache_write_tokens: 0 },
        output_tokens: outputTokens,
        output_tokens_details: { reasoning_tokens: 0 },
        total_tokens: p.ids.length + outputTokens,
      },
    }),
  };
}

/** The Responses API's event stream: named events with sequence numbers, no `[DONE]`. */
class ResponseEventStream extends SseStream {
  private sequence = 0;

  constructor(
    res: ServerResponse,
    headers: Record<string, string>,
    private readonly failed: (error: GatewayError) => unknown,
  ) {
    super(res, headers);
  }

  emit(type: string, payload: Record<string, unknown> = {}): void {
    this.send({ type, sequence_number: this.sequence++, ...payload }, type);
  }

  override done(): void {
    if (this.open) this.res.end();
  }

  /** A failure after the stream started: an `error` event, then `response.failed` with the error. */
  override fail(error: GatewayError): void {
    if (!this.open) return;
    this.emit('error', { code: error.code ?? error.type, message: error.message, param: error.param });
    this.emit('response.failed', { response: this.failed(error) });
    this.done();
  }
}

const responseErrorCode = (error: GatewayError) =>
  error.status === 429 ? 'rate_limit_exceeded' : error.status === 400 ? 'invalid_prompt' : 'server_error';

/** The documented order: created, in_progress, output item and content part added, text deltas, their done events, completed. */
async function streamResponse(ctx: RequestContext, p: ResponsePlan): Promise<void> {
  let text = '';
  const sse = new ResponseEventStream(ctx.res, streamHeaders(p.served), (error) =>
    responseObject(p, { status: 'failed', text, error: { code: responseErrorCode(error), message: error.message } }),
  );
  const at = { item_id: p.messageId, output_index: 0, content_index: 0 };
  const started: Outcome = { status: 'in_progress', text: '' };
  sse.emit('response.created', { response: responseObject(p, started) });
  sse.emit('response.in_progress', { response: responseObject(p, started) });
  sse.emit('response.output_item.added', { output_index: 0, item: messageItem(p, started) });
  sse.emit('response.content_part.added', { ...at, part: outputText('') });
  const delta = (piece: string) => {
    if (!piece) return;
    text += piece;
    sse.emit('response.output_text.delta', { ...at, delta: piece, logprobs: [] });
  };
  const [result] = await generate(p.served, p.ids, p.params, ctx.signal, (e) => delta(e.delta));
  delta(result.tail);
  const outcome = finished(result);
  sse.emit('response.output_text.done', { ...at, text: result.text, logprobs: [] });
  sse.emit('response.content_part.done', { ...at, part: outputText(result.text) });
  sse.emit('response.output_item.done', { output_index: 0, item: messageItem(p, outcome) });
  sse.emit(outcome.status === 'completed' ? 'response.completed' : 'response.incomplete', {
    response: responseObject(p, outcome),
  });
  sse.done();
}
