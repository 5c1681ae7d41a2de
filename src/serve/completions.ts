import type { ChoiceResult } from './continuous-batcher.ts';
import { badRequest } from './errors.ts';
import { checkTopLogprobs, generate, generationBudget, type GenerationEvent } from './generation.ts';
import {
  appendCompletionLogprobs,
  completionLogprobs,
  tokenNamer,
  vllmPromptLogprobs,
  type CompletionLogprobs,
  type LogprobEntry,
  type TokenNamer,
} from './logprob-format.ts';
import { checkPromptLogprobs, promptLogprobs, type PromptPosition } from './prompt-logprobs.ts';
import { responseId, sendJson, type RequestContext } from './request-context.ts';
import type { RequestFields } from './request-fields.ts';
import { includeUsage, readSamplingFields } from './sampling-fields.ts';
import type { ServedModel } from './served-model.ts';
import { SseStream } from './sse.ts';

interface PromptInput {
  ids: number[];
  text: string;
}

const isIdList = (v: unknown): v is number[] =>
  Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === 'number');

/** `prompt` as a string, a list of strings, a list of token ids, or a list of such lists. */
function readPrompts(fields: RequestFields, served: ServedModel, maxPrompts: number): PromptInput[] {
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
  if (items.length > maxPrompts)
    throw badRequest(`"prompt" may hold at most ${maxPrompts} prompts, got ${items.length}`, 'prompt');
  return items
    .map((item) => {
      if (typeof item === 'string') return { ids: tokenizer.encode(item, { addBos: true }), text: item };
      const vocab = tokenizer.vocabSize;
      for (const id of item) {
        if (!Number.isInteger(id) || id < 0 || (vocab > 0 && id >= vocab)) {
          throw badRequest(`"prompt" holds the token id ${id}; ids must be integers in 0..${vocab - 1}`, 'prompt');
        }
      }
      return { ids: item, text: tokenizer.decode(item) };
    })
    .map((p) => {
      if (p.ids.length === 0)
        throw badRequest('a prompt encodes to no tokens (the tokenizer has no BOS to start from)', 'prompt');
      return p;
    });
}

const finishReason = (r: ChoiceResult) => (r.finishReason === 'length' ? 'length' : 'stop');

function generatedEntries(r: ChoiceResult): LogprobEntry[] {
  return r.tokens.map((token, i) => ({ token, logprob: r.logprobs[i] ?? null, top: r.top[i] ?? [] }));
}

function promptEntries(
  ids: readonly number[],
  positions: readonly (PromptPosition | null)[],
  topK: number,
): LogprobEntry[] {
  return ids.map((token, i) => ({
    token,
    logprob: positions[i]?.logprob ?? null,
    top: positions[i]?.top.slice(0, topK) ?? [],
  }));
}

interface CompletionPlan {
  served: ServedModel;
  prompts: PromptInput[];
  /** tokens each prompt may still generate */
  budgets: number[];
  maxTokens: number;
  params: ReturnType<typeof readSamplingFields>;
  logprobs: number | null;
  echo: boolean;
  promptLogprobsK: number | null;
  asIds: boolean;
  returnTokenIds: boolean;
}

function plan(ctx: RequestContext): CompletionPlan {
  const { body: fields, limits } = ctx;
  const served = ctx.models.get(fields.requiredString('model'));
  fields.unsupported('suffix', '');
  const maxTokens = fields.int('max_tokens', 16, { min: 0, max: limits.maxTokens });
  const params = readSamplingFields(fields, limits, maxTokens);
  const logprobs = fields.int('logprobs', undefined, { min: 0, max: limits.maxLogprobs }) ?? null;
  const promptLogprobsK = fields.int('prompt_logprobs', undefined, { min: 0, max: limits.maxLogprobs }) ?? null;
  if (promptLogprobsK !== null && fields.bool('stream', false))
    throw badRequest('"prompt_logprobs" is not available with "stream"', 'prompt_logprobs');
  const echo = fields.bool('echo', false);
  const prompts = readPrompts(fields, served, limits.maxPrompts);
  if (maxTokens > 0) checkTopLogprobs(served, logprobs ?? 0);
  if ((echo && logprobs !== null) || promptLogprobsK !== null) {
    checkPromptLogprobs(
      served.model,
      Math.max(echo ? (logprobs ?? 0) : 0, promptLogprobsK ?? 0),
      promptLogprobsK !== null,
    );
  }
  return {
    served,
    prompts,
    budgets: prompts.map((prompt) => (maxTokens > 0 ? generationBudget(served, prompt.ids.length, maxTokens) : 0)),
    maxTokens,
    params,
    logprobs,
    echo,
    promptLogprobsK,
    asIds: fields.bool('return_tokens_as_token_ids', false),
    returnTokenIds: fields.bool('return_token_ids', false),
  };
}

/** Runs one prompt: its choices, and the prompt's own log-probs when echo/prompt_logprobs ask for them. */
async function runPrompt(p: CompletionPlan, pi: number, signal: AbortSignal, onEvent?: (e: GenerationEvent) => void) {
  const prompt = p.prompts[pi];
  const needPrompt = (p.echo && p.logprobs !== null) || p.promptLogprobsK !== null;
  const positionsPromise = needPrompt
    ? promptLogprobs(
        p.served.model,
        prompt.ids,
        Math.max(p.echo ? (p.logprobs ?? 0) : 0, p.promptLogprobsK ?? 0),
        p.promptLogprobsK !== null,
        signal,
      )
    : Promise.resolve([] as (PromptPosition | null)[]);
  const resultsPromise =
    p.maxTokens > 0
      ? generate(
          p.served,
          prompt.ids,
          {
            ...p.params,
            maxNewTokens: p.budgets[pi],
            topLogprobs: p.logprobs ?? 0,
          },
          signal,
          onEvent,
        )
      : Promise.resolve(
          Array.from({ length: p.params.n }, (): ChoiceResult => ({
            text: '',
            tokens: [],
            logprobs: [],
            top: [],
            finishReason: 'length',
            stopString: null,
            tail: '',
          })),
        );
  const [positions, results] = await Promise.all([positionsPromise, resultsPromise]);
  return { positions, results };
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
  return p.echo
    ? appendCompletionLogprobs(completionLogprobs(promptEntries(prompt.ids, positions, p.logprobs), name, 0), generated)
    : generated;
}

/** POST /v1/completions */
export async function completions(ctx: RequestContext): Promise<void> {
  const p = plan(ctx);
  if (ctx.body.bool('stream', false)) return streamCompletions(ctx, p);
  const name = tokenNamer(p.served.model.tokenizer, p.asIds);
  const ran = await Promise.all(p.prompts.map((_, pi) => runPrompt(p, pi, ctx.signal)));
  let completionTokens = 0;
  const choices = ran.flatMap(({ positions, results }, pi) =>
    results.map((r, c) => {
      const prompt = p.prompts[pi];
      completionTokens += r.tokens.length;
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
  const promptTokens = p.prompts.reduce((a, prompt) => a + prompt.ids.length, 0);
  sendJson(ctx.res, 200, {
    id: responseId('cmpl'),
    object: 'text_completion',
    created: Math.floor(Date.now() / 1000),
    model: p.served.name,
    choices,
    usage: {
      prompt_tokens: promptTokens,
      completion_tokens: completionTokens,
      total_tokens: promptTokens + completionTokens,
    },
  });
}

async function streamCompletions(ctx: RequestContext, p: CompletionPlan): Promise<void> {
  const name = tokenNamer(p.served.model.tokenizer, p.asIds);
  const id = responseId('cmpl');
  const created = Math.floor(Date.now() / 1000);
  const sse = new SseStream(ctx.res);
  const chunk = (choice: Record<string, unknown>) =>
    sse.send({ id, object: 'text_completion', created, model: p.served.name, choices: [choice] });
  let completionTokens = 0;
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
        if (e.delta || logprobs) chunk({ index, text: e.delta, logprobs, finish_reason: null });
      };
      if (p.echo) {
        const { positions } =
          p.logprobs !== null ? await runPrompt({ ...p, maxTokens: 0 }, pi, ctx.signal) : { positions: [] };
        for (let c = 0; c < p.params.n; c++) {
          const logprobs =
            p.logprobs !== null ? completionLogprobs(promptEntries(prompt.ids, positions, p.logprobs), name, 0) : null;
          chunk({ index: pi * p.params.n + c, text: prompt.text, logprobs, finish_reason: null });
        }
      }
      const { results } = await runPrompt({ ...p, echo: false }, pi, ctx.signal, onEvent);
      results.forEach((r, c) => {
        completionTokens += r.tokens.length;
        chunk({
          index: pi * p.params.n + c,
          text: r.tail,
          logprobs: null,
          finish_reason: finishReason(r),
          stop_reason: r.stopString,
        });
      });
    }),
  );
  if (includeUsage(ctx.body)) {
    const promptTokens = p.prompts.reduce((a, prompt) => a + prompt.ids.length, 0);
    sse.send({
      id,
      object: 'text_completion',
      created,
      model: p.served.name,
      choices: [],
      usage: {
        prompt_tokens: promptTokens,
        completion_tokens: completionTokens,
        total_tokens: promptTokens + completionTokens,
      },
    });
  }
  sse.done();
}
