import { encodeWithBos } from '../lm/prompt-format.ts';
import type { ChatMessage } from '../tokenizers/tokenizer.ts';
import type { ChoiceResult } from './continuous-batcher.ts';
import { badRequest } from './errors.ts';
import {
  checkTopLogprobs,
  generate,
  generationBudget,
  type GenerationEvent,
  type GenerationParams,
} from './generation.ts';
import { chatLogprobs, tokenNamer } from './logprob-format.ts';
import { responseId, sendJson, type RequestContext } from './request-context.ts';
import type { RequestFields } from './request-fields.ts';
import { includeUsage, readSamplingFields } from './sampling-fields.ts';
import type { ServedModel } from './served-model.ts';
import { SseStream } from './sse.ts';

/** Message content as a string, or OpenAI's list of parts of which only text parts are accepted. */
function contentText(content: unknown, i: number): string {
  if (typeof content === 'string') return content;
  if (content === null || content === undefined) return '';
  if (Array.isArray(content)) {
    return content
      .map((part, j) => {
        if (part && typeof part === 'object' && (part as any).type === 'text' && typeof (part as any).text === 'string')
          return (part as any).text as string;
        throw badRequest(
          `messages[${i}].content[${j}]: only {"type": "text", "text": ...} parts are supported`,
          `messages[${i}].content`,
        );
      })
      .join('');
  }
  throw badRequest(`messages[${i}].content must be a string or a list of text parts`, `messages[${i}].content`);
}

function readMessages(fields: RequestFields): ChatMessage[] {
  const raw = fields.raw('messages');
  if (!Array.isArray(raw) || raw.length === 0)
    throw badRequest('"messages" must be a non-empty list of {role, content}', 'messages');
  return raw.map((m, i) => {
    if (!m || typeof m !== 'object' || typeof (m as any).role !== 'string')
      throw badRequest(`messages[${i}] must be an object with a string "role"`, `messages[${i}]`);
    return { role: (m as any).role, content: contentText((m as any).content, i) };
  });
}

/** The prompt ids a chat renders to: the model's chat template (or the plain fallback), with one BOS. */
export function chatPromptIds(served: ServedModel, messages: readonly ChatMessage[]): number[] {
  const { tokenizer } = served.model;
  return encodeWithBos(tokenizer, tokenizer.applyChatTemplate(messages, { addGenerationPrompt: true }));
}

interface ChatPlan {
  served: ServedModel;
  ids: number[];
  params: GenerationParams;
  logprobs: boolean;
}

function plan(ctx: RequestContext): ChatPlan {
  const { body: fields, limits } = ctx;
  const served = ctx.models.get(fields.requiredString('model'));
  const messages = readMessages(fields);
  const tools = fields.raw('tools');
  if (Array.isArray(tools) && tools.length)
    throw badRequest('"tools" are not supported by this server', 'tools', 'unsupported_parameter');
  const format = fields.object('response_format');
  if (format && format.type !== 'text')
    throw badRequest('only response_format {"type": "text"} is supported', 'response_format', 'unsupported_parameter');
  const ids = chatPromptIds(served, messages);
  const requested =
    fields.int('max_completion_tokens', undefined, { min: 1, max: limits.maxTokens }) ??
    fields.int('max_tokens', undefined, { min: 1, max: limits.maxTokens });
  const maxTokens = requested ?? limits.maxTokens;
  const sampling = readSamplingFields(fields, limits, maxTokens);
  const logprobs = fields.bool('logprobs', false);
  const topLogprobs = fields.int('top_logprobs', 0, { min: 0, max: limits.maxLogprobs });
  if (topLogprobs > 0 && !logprobs) throw badRequest('"top_logprobs" needs "logprobs": true', 'top_logprobs');
  checkTopLogprobs(served, topLogprobs);
  return {
    served,
    ids,
    params: { ...sampling, maxNewTokens: generationBudget(served, ids.length, maxTokens), topLogprobs },
    logprobs,
  };
}

const finishReason = (r: ChoiceResult) => (r.finishReason === 'length' ? 'length' : 'stop');

/** POST /v1/chat/completions */
export async function chatCompletions(ctx: RequestContext): Promise<void> {
  const p = plan(ctx);
  if (ctx.body.bool('stream', false)) return streamChat(ctx, p);
  const name = tokenNamer(p.served.model.tokenizer, false);
  const results = await generate(p.served, p.ids, p.params, ctx.signal);
  const completionTokens = results.reduce((a, r) => a + r.tokens.length, 0);
  sendJson(ctx.res, 200, {
    id: responseId('chatcmpl'),
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model: p.served.name,
    choices: results.map((r, index) => ({
      index,
      message: { role: 'assistant', content: r.text },
      logprobs: p.logprobs
        ? {
            content: chatLogprobs(
              r.tokens.map((token, i) => ({ token, logprob: r.logprobs[i] ?? 0, top: r.top[i] ?? [] })),
              name,
            ),
          }
        : null,
      finish_reason: finishReason(r),
      stop_reason: r.stopString,
    })),
    usage: {
      prompt_tokens: p.ids.length,
      completion_tokens: completionTokens,
      total_tokens: p.ids.length + completionTokens,
    },
  });
}

async function streamChat(ctx: RequestContext, p: ChatPlan): Promise<void> {
  const name = tokenNamer(p.served.model.tokenizer, false);
  const id = responseId('chatcmpl');
  const created = Math.floor(Date.now() / 1000);
  const sse = new SseStream(ctx.res);
  const chunk = (choice: Record<string, unknown>) =>
    sse.send({ id, object: 'chat.completion.chunk', created, model: p.served.name, choices: [choice] });
  for (let index = 0; index < p.params.n; index++)
    chunk({ index, delta: { role: 'assistant', content: '' }, logprobs: null, finish_reason: null });
  const onEvent = (e: GenerationEvent) => {
    const logprobs =
      p.logprobs && e.token
        ? { content: chatLogprobs([{ token: e.token.token, logprob: e.token.logprob, top: e.token.top }], name) }
        : null;
    if (e.delta || logprobs) chunk({ index: e.choice, delta: { content: e.delta }, logprobs, finish_reason: null });
  };
  const results = await generate(p.served, p.ids, p.params, ctx.signal, onEvent);
  results.forEach((r, index) => {
    chunk({
      index,
      delta: r.tail ? { content: r.tail } : {},
      logprobs: null,
      finish_reason: finishReason(r),
      stop_reason: r.stopString,
    });
  });
  if (includeUsage(ctx.body)) {
    const completionTokens = results.reduce((a, r) => a + r.tokens.length, 0);
    sse.send({
      id,
      object: 'chat.completion.chunk',
      created,
      model: p.served.name,
      choices: [],
      usage: {
        prompt_tokens: p.ids.length,
        completion_tokens: completionTokens,
        total_tokens: p.ids.length + completionTokens,
      },
    });
  }
  sse.done();
}
