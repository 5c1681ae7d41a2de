import type { ChoiceResult } from './continuous-batcher.ts';
import { badRequest } from './errors.ts';
import { CHAT_FIELDS, applyFieldRules } from './field-policy.ts';
import {
  checkLogprobs,
  generate,
  generationBudget,
  type GenerationEvent,
  type GenerationParams,
} from './generation.ts';
import { specOrServerMax } from './limits.ts';
import { chatLogprobs, generatedEntries, tokenNamer } from './logprob-format.ts';
import { readMessages } from './chat-messages.ts';
import { encodeChat } from './prompt-encoding.ts';
import { chunkSender, responseId, sendJson, streamHeaders, usageOf, type RequestContext } from './request-context.ts';
import { includeUsage, readChoiceCount, readSamplingFields } from './sampling-fields.ts';
import type { ServedModel } from './served-model.ts';
import { SseStream } from './sse.ts';

interface ChatPlan {
  served: ServedModel;
  ids: number[];
  params: GenerationParams;
  stream: boolean;
  includeUsage: boolean;
}

/** Reads and checks the whole request (before anything is generated or streamed). */
async function plan(ctx: RequestContext): Promise<ChatPlan> {
  const { body: fields, limits } = ctx;
  applyFieldRules(fields, CHAT_FIELDS);
  const served = ctx.models.get(fields.requiredString('model'));
  const messages = readMessages(fields.raw('messages'));
  const tokenBounds = { min: 0, max: limits.maxTokens, maxReason: "this server's --max-tokens" };
  const newer = fields.int('max_completion_tokens', undefined, tokenBounds);
  const requested = newer ?? fields.int('max_tokens', undefined, tokenBounds);
  const sampling = readSamplingFields(fields);
  const n = readChoiceCount(fields, limits);
  const logprobs = fields.bool('logprobs', false);
  const topLogprobs = fields.int('top_logprobs', 0, { min: 0, ...specOrServerMax(20, limits, 'maxLogprobs') });
  if (topLogprobs > 0 && !logprobs) throw badRequest('"top_logprobs" needs "logprobs": true', 'top_logprobs');
  checkLogprobs(served, logprobs, topLogprobs, logprobs ? 'logprobs' : 'top_logprobs');
  const stream = fields.bool('stream', false);
  const usage = includeUsage(fields);
  const ids = await encodeChat(served, messages);
  const budget = generationBudget(
    served,
    ids.length,
    requested,
    limits.maxTokens,
    newer !== undefined ? 'max_completion_tokens' : 'max_tokens',
  );
  return {
    served,
    ids,
    params: { ...sampling, n, maxNewTokens: budget, logprobs, topLogprobs },
    stream,
    includeUsage: usage,
  };
}

const finishReason = (r: ChoiceResult) => (r.finishReason === 'length' ? 'length' : 'stop');

/** POST /v1/chat/completions */
export async function chatCompletions(ctx: RequestContext): Promise<void> {
  const p = await plan(ctx);
  if (p.stream) return streamChat(ctx, p);
  const name = tokenNamer(p.served.model.tokenizer, false);
  const results = await generate(p.served, p.ids, p.params, ctx.signal);
  sendJson(ctx.res, 200, {
    id: responseId('chatcmpl'),
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model: p.served.name,
    system_fingerprint: p.served.fingerprint,
    choices: results.map((r, index) => ({
      index,
      message: { role: 'assistant', content: r.text, refusal: null },
      logprobs: p.params.logprobs
        ? {
            content: chatLogprobs(generatedEntries(r), name),
            refusal: null,
          }
        : null,
      finish_reason: finishReason(r),
      stop_reason: r.stopString,
    })),
    usage: usageOf(p.ids.length, results),
  });
}

async function streamChat(ctx: RequestContext, p: ChatPlan): Promise<void> {
  const name = tokenNamer(p.served.model.tokenizer, false);
  const sse = new SseStream(ctx.res, streamHeaders(p.served));
  const chunk = chunkSender(sse, {
    id: responseId('chatcmpl'),
    object: 'chat.completion.chunk',
    served: p.served,
    includeUsage: p.includeUsage,
  });
  for (let index = 0; index < p.params.n; index++)
    chunk([{ index, delta: { role: 'assistant', content: '', refusal: null }, logprobs: null, finish_reason: null }]);
  const onEvent = (e: GenerationEvent) => {
    const logprobs =
      p.params.logprobs && e.token
        ? {
            content: chatLogprobs([{ token: e.token.token, logprob: e.token.logprob, top: e.token.top }], name),
            refusal: null,
          }
        : null;
    if (e.delta || logprobs) chunk([{ index: e.choice, delta: { content: e.delta }, logprobs, finish_reason: null }]);
  };
  const results = await generate(p.served, p.ids, p.params, ctx.signal, onEvent);
  // a model that is not batched token by token reports its tokens' log-probs at the end
  const lateLogprobs = p.params.logprobs && !p.served.batcher;
  results.forEach((r, index) => {
    chunk([
      {
        index,
        delta: r.tail ? { content: r.tail } : {},
        logprobs: lateLogprobs ? { content: chatLogprobs(generatedEntries(r), name), refusal: null } : null,
        finish_reason: finishReason(r),
        stop_reason: r.stopString,
      },
    ]);
  });
  if (p.includeUsage) chunk([], usageOf(p.ids.length, results));
  sse.done();
}
