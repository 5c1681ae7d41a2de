import type { ChoiceResult } from './continuous-batcher.ts';
import { badRequest } from './errors.ts';
import { COMPLETION_FIELDS, applyFieldRules } from './field-policy.ts';
import {
  checkLogprobs,
  generate,
  generationBudget,
  type GenerationEvent,
  type GenerationParams,
} from './generation.ts';
import { specOrServerMax, type GatewayLimits } from './limits.ts';
import {
  appendCompletionLogprobs,
  completionLogprobs,
  generatedEntries,
  promptTextOffsets,
  tokenNamer,
  vllmPromptLogprobs,
  type CompletionLogprobs,
  type LogprobEntry,
  type TokenNamer,
} from './logprob-format.ts';
import { checkPromptChars, encodePrompt } from './prompt-encoding.ts';
import { checkPromptLogprobs, promptLogprobs, type PromptPosition } from './prompt-logprobs.ts';
import { chunkSender, responseId, sendJson, streamHeaders, usageOf, type RequestContext } from './request-context.ts';
import type { RequestFields } from './request-fields.ts';
import { includeUsage, readChoiceCount, readSamplingFields } from './sampling-fields.ts';
import type { ServedModel } from './served-model.ts';
import { SseStream } from './sse.ts';

interface PromptInput {
  ids: number[];
  text: string;
}

const isIdList = (v: unknown): v is number[] =>
  Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === 'number');

/** `prompt` as a string, a list of strings, a list of token ids, or a list of such lists. */
async function readPrompts(fields: RequestFields, served: ServedModel, limits: GatewayLimits): Promise<PromptInput[]> {
  const raw = fields.raw('prompt');
  const { tokenizer } = served.model;
  let items: (string | number[])[];
  if (typeof raw === 'string' || isIdList(raw)) items = [raw];
  else if (Array.isArray(raw) && raw.length > 0 && raw.every((p) => typeof p === 'string' || isIdList(p)))
    items = raw as (string | number[])[];
  else
    throw badRequest(
      '"prompt" must be a string, a list of strings, a list of token ids or a list of token-id lists',
      'prompt',
    );
  if (items.length > limits.maxPrompts)
    throw badRequest(
      `"prompt" may hold at most ${limits.maxPrompts} prompts (this server's --max-prompts), got ${items.length}`,
      'prompt',
    );
  // every string is checked for length before any is tokenized
  for (const item of items) if (typeof item === 'string') checkPromptChars(served, item.length, 'prompt');
  const prompts: PromptInput[] = [];
  for (const item of items) {
    if (typeof item === 'string') {
      prompts.push({ ids: await encodePrompt(served, item, 'prompt'), text: item });
      continue;
    }
    const vocab = tokenizer.vocabSize;
    for (const id of item) {
      if (!Number.isInteger(id) || id < 0 || (vocab > 0 && id >= vocab)) {
        throw badRequest(`"prompt" holds the token id ${id}; ids must be integers in 0..${vocab - 1}`, 'prompt');
      }
    }
    prompts.push({ ids: item, text: tokenizer.decode(item) });
  }
  if (prompts.some((p) => p.ids.length === 0))
    throw badRequest('a prompt encodes to no tokens (the tokenizer has no BOS to start from)', 'prompt');
  return prompts;
}

const finishReason = (r: ChoiceResult) => (r.finishReason === 'length' ? 'length' : 'stop');

interface CompletionPlan {
  served: ServedModel;
  prompts: PromptInput[];
  /** tokens each prompt may still generate */
  budgets: number[];
  maxTokens: number;
  params: Omit<GenerationParams, 'maxNewTokens'>;
  /** top alternatives per token, when log-probs are asked for (`logprobs`: 0…5) */
  logprobs: number | null;
  echo: boolean;
  promptLogprobsK: number | null;
  asIds: boolean;
  returnTokenIds: boolean;
  stream: boolean;
  includeUsage: boolean;
}

/** Reads and checks the whole request (before anything is generated or streamed). */
async function plan(ctx: RequestContext): Promise<CompletionPlan> {
  const { body: fields, limits } = ctx;
  applyFieldRules(fields, COMPLETION_FIELDS);
  const served = ctx.models.get(fields.requiredString('model'));
  const requested = fields.int('max_tokens', undefined, {
    min: 0,
    max: limits.maxTokens,
    maxReason: "this server's --max-tokens",
  });
  const maxTokens = requested ?? 16;
  const sampling = readSamplingFields(fields);
  const n = readChoiceCount(fields, limits);
  const logprobs = fields.int('logprobs', undefined, { min: 0, ...specOrServerMax(5, limits, 'maxLogprobs') }) ?? null;
  const promptLogprobsK =
    fields.int('prompt_logprobs', undefined, {
      min: 0,
      max: limits.maxLogprobs,
      maxReason: "this server's --max-logprobs",
    }) ?? null;
  const stream = fields.bool('stream', false);
  if (promptLogprobsK !== null && stream)
    throw badRequest('"prompt_logprobs" is not available with "stream"', 'prompt_logprobs');
  const echo = fields.bool('echo', false);
  const asIds = fields.bool('return_tokens_as_token_ids', false);
  const returnTokenIds = fields.bool('return_token_ids', false);
  const usage = includeUsage(fields);
  if (maxTokens > 0) checkLogprobs(served, logprobs !== null, logprobs ?? 0, 'logprobs');
  if ((echo && logprobs !== null) || promptLogprobsK !== null) {
    checkPromptLogprobs(
      served.model,
      Math.max(echo ? (logprobs ?? 0) : 0, promptLogprobsK ?? 0),
      promptLogprobsK !== null,
    );
  }
  const prompts = await readPrompts(fields, served, limits);
  return {
    served,
    prompts,
    budgets: prompts.map((prompt) =>
      maxTokens > 0 ? generationBudget(served, prompt.ids.length, requested, maxTokens) : 0,
    ),
    maxTokens,
    params: { ...sampling, n, logprobs: logprobs !== null, topLogprobs: logprobs ?? 0 },
    logprobs,
    echo,
    promptLogprobsK,
    asIds,
    returnTokenIds,
    stream,
    includeUsage: usage,
  };
}

/** Runs one prompt: its choices, and the prompt's own log-probs when echo/prompt_logprobs ask for them. */
async function runPrompt(p: CompletionPlan, pi: number, signal: AbortSignal, onEvent?: (e: GenerationEvent) => void) {
  const prompt = p.prompts[pi];
  const needPrompt = (p.echo && p.logprobs !== null) || p.promptLogprobsK !== null;
  const [positions, results] = await Promise.all([
    needPrompt
      ? promptLogprobs(
          p.served.model,
          prompt.ids,
          Math.max(p.echo ? (p.logprobs ?? 0) : 0, p.promptLogprobsK ?? 0),
          p.promptLogprobsK !== null,
          signal,
        )
      : ([] as (PromptPosition | null)[]),
    generate(p.served, prompt.ids, { ...p.params, maxNewTokens: p.budgets[pi] }, signal, onEvent),
  ]);
  return { positions, results };
}

/** The echoed prompt's logprobs, its offsets where each token begins in the prompt's text. */
function echoLogprobs(
  p: CompletionPlan,
  prompt: PromptInput,
  positions: readonly (PromptPosition | null)[],
  name: TokenNamer,
): CompletionLogprobs {
  const entries: LogprobEntry[] = prompt.ids.map((token, i) => ({
    token,
    logprob: positions[i]?.logprob ?? null,
    top: positions[i]?.top.slice(0, p.logprobs ?? 0) ?? [],
  }));
  return completionLogprobs(entries, name, promptTextOffsets(p.served.model.tokenizer, prompt.ids, prompt.text, name));
}

function choiceLogprobs(
  p: CompletionPlan,
  prompt: PromptInput,
  positions: (PromptPosition | null)[],
  r: ChoiceResult,
  name: TokenNamer,
): CompletionLogprobs | null {
  if (p.logprobs === null) return null;
  const generated = completionLogprobs(generatedEntries(r), name, p.echo ? prompt.text.length : 0);
  return p.echo ? appendCompletionLogprobs(echoLogprobs(p, prompt, positions, name), generated) : generated;
}

/** POST /v1/completions */
export async function completions(ctx: RequestContext): Promise<void> {
  const p = await plan(ctx);
  if (p.stream) return streamCompletions(ctx, p);
  const name = tokenNamer(p.served.model.tokenizer, p.asIds);
  const ran = await Promise.all(p.prompts.map((_, pi) => runPrompt(p, pi, ctx.signal)));
  const choices = ran.flatMap(({ positions, results }, pi) =>
    results.map((r, c) => {
      const prompt = p.prompts[pi];
      const choice: Record<string, unknown> = {
        index: pi * p.params.n + c,
        text: (p.echo ? prompt.text : '') + r.text,
        logprobs: choiceLogprobs(p, prompt, positions, r, name),
        finish_reason: finishReason(r),
        stop_reason: r.stopString,
      };
      if (p.promptLogprobsK !== null) {
        choice.prompt_logprobs = vllmPromptLogprobs(
          prompt.ids,
          positions.map((pos) => pos && { ...pos, top: pos.top.slice(0, p.promptLogprobsK!) }),
          name,
        );
      }
      if (p.returnTokenIds) {
        choice.prompt_token_ids = prompt.ids;
        choice.token_ids = r.tokens;
      }
      return choice;
    }),
  );
  sendJson(ctx.res, 200, {
    id: responseId('cmpl'),
    object: 'text_completion',
    created: Math.floor(Date.now() / 1000),
    model: p.served.name,
    system_fingerprint: p.served.fingerprint,
    choices,
    usage: usageOf(
      p.prompts.reduce((a, prompt) => a + prompt.ids.length, 0),
      ran.flatMap((r) => r.results),
    ),
  });
}

async function streamCompletions(ctx: RequestContext, p: CompletionPlan): Promise<void> {
  const name = tokenNamer(p.served.model.tokenizer, p.asIds);
  const sse = new SseStream(ctx.res, streamHeaders(p.served));
  const chunk = chunkSender(sse, {
    id: responseId('cmpl'),
    object: 'text_completion',
    served: p.served,
    includeUsage: p.includeUsage,
  });
  // a model that is not batched token by token reports its tokens' log-probs at the end
  const lateLogprobs = p.logprobs !== null && !p.served.batcher;
  const finished: ChoiceResult[] = [];
  await Promise.all(
    p.prompts.map(async (prompt, pi) => {
      const offsets = new Array<number>(p.params.n).fill(p.echo ? prompt.text.length : 0);
      const onEvent = (e: GenerationEvent) => {
        const index = pi * p.params.n + e.choice;
        let logprobs: CompletionLogprobs | null = null;
        if (p.logprobs !== null && e.token) {
          logprobs = completionLogprobs(
            [{ token: e.token.token, logprob: e.token.logprob, top: e.token.top }],
            name,
            offsets[e.choice],
          );
          offsets[e.choice] += logprobs.tokens[0].length;
        }
        if (e.delta || logprobs) chunk([{ index, text: e.delta, logprobs, finish_reason: null }]);
      };
      if (p.echo) {
        const positions =
          p.logprobs !== null
            ? (await runPrompt({ ...p, budgets: p.budgets.map(() => 0) }, pi, ctx.signal)).positions
            : [];
        const logprobs = p.logprobs !== null ? echoLogprobs(p, prompt, positions, name) : null;
        for (let c = 0; c < p.params.n; c++)
          chunk([{ index: pi * p.params.n + c, text: prompt.text, logprobs, finish_reason: null }]);
      }
      const { results } = await runPrompt({ ...p, echo: false }, pi, ctx.signal, onEvent);
      results.forEach((r, c) => {
        finished.push(r);
        chunk([
          {
            index: pi * p.params.n + c,
            text: r.tail,
            logprobs: lateLogprobs ? completionLogprobs(generatedEntries(r), name, offsets[c]) : null,
            finish_reason: finishReason(r),
            stop_reason: r.stopString,
          },
        ]);
      });
    }),
  );
  if (p.includeUsage)
    chunk(
      [],
      usageOf(
        p.prompts.reduce((a, prompt) => a + prompt.ids.length, 0),
        finished,
      ),
    );
  sse.done();
}
