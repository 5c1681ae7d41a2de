import type { Sample } from '../lm/language-model.ts';
import type { ChoiceResult, TokenEvent } from './continuous-batcher.ts';
import { GatewayError, badRequest } from './errors.ts';
import type { ServedModel } from './served-model.ts';
import { SettledTextStream } from './text-stream.ts';

export interface GenerationParams {
  n: number;
  maxNewTokens: number;
  temperature: number;
  topP: number;
  topK: number;
  seed?: number;
  stop: readonly string[];
  /** the log-prob of each generated token is wanted (checked up front with checkLogprobs) */
  logprobs: boolean;
  /** top alternatives per generated token; needs a model with full distributions */
  topLogprobs: number;
}

/** What a handler hears while a choice is generated: per token (batched models), per settled piece, or once. */
export interface GenerationEvent {
  choice: number;
  delta: string;
  token?: TokenEvent;
}

/**
 * Tokens the model may generate after a prompt. A `max_tokens` the client asked for must fit in
 * the context with the prompt (a 400 naming both, as vLLM answers); without one, the rest of the
 * context, at most `defaultMax`.
 */
export function generationBudget(
  served: ServedModel,
  promptLength: number,
  requested: number | undefined,
  defaultMax: number,
  param = 'max_tokens',
): number {
  const context = served.model.capabilities.maxContext;
  if (promptLength >= context)
    throw badRequest(
      `the prompt has ${promptLength} tokens; the model's context is ${context} tokens, so nothing can be generated`,
      'prompt',
      'context_length_exceeded',
    );
  if (requested !== undefined && promptLength + requested > context)
    throw badRequest(
      `the model's context is ${context} tokens, but ${promptLength + requested} were asked for (${promptLength} in the prompt, ${requested} in "${param}"); lower "${param}" to at most ${context - promptLength}`,
      param,
      'context_length_exceeded',
    );
  return Math.min(requested ?? defaultMax, context - promptLength);
}

/**
 * Fails early (before a stream starts) when log-probs are asked of a model that has none to give:
 * a guided model's tokens come from a search over several models, so no single probability
 * belongs to them, and top alternatives need full next-token distributions.
 */
export function checkLogprobs(served: ServedModel, logprobs: boolean, topLogprobs: number, param: string): void {
  if ((logprobs || topLogprobs > 0) && !served.tokenLogprobs) {
    throw badRequest(
      `model "${served.name}" has no per-token log-probs: ${served.guided ? 'a guided model chooses its tokens by a search over several models' : 'its backend does not report them'}`,
      param,
      'unsupported',
    );
  }
  if (topLogprobs > 0 && !served.batcher) {
    throw badRequest(
      `model "${served.name}" cannot return top log-probs of generated tokens (it has no full next-token distributions)`,
      param,
      'unsupported',
    );
  }
}

/** What `max_tokens: 0` asks for: nothing, cut by the length limit. */
const emptyChoice = (): ChoiceResult => ({
  text: '',
  tokens: [],
  logprobs: [],
  top: [],
  finishReason: 'length',
  stopString: null,
  tail: '',
});

function fromSample(served: ServedModel, sample: Sample, wantLogprobs: boolean): ChoiceResult {
  if (wantLogprobs && sample.logprobs?.length !== sample.tokens.length)
    throw new GatewayError(
      502,
      `the backend of model "${served.name}" returned no log-probs for its tokens`,
      'upstream_error',
      'logprobs',
    );
  return {
    text: sample.text,
    tokens: sample.tokens,
    logprobs: sample.logprobs ?? [],
    top: sample.tokens.map(() => []),
    finishReason: sample.finishReason,
    stopString: null,
    tail: '',
  };
}

/**
 * Generates `params.n` continuations of a prompt: batched step by step with other requests
 * when the model gives full distributions, otherwise through the model's own `sample` (remote
 * and guided models). A guided model reports the text its search has settled as it goes, which
 * is streamed as it comes; the rest of each choice arrives in its result's `tail`.
 */
export async function generate(
  served: ServedModel,
  prompt: readonly number[],
  params: GenerationParams,
  signal: AbortSignal,
  onEvent?: (event: GenerationEvent) => void,
): Promise<ChoiceResult[]> {
  if (params.maxNewTokens === 0) return Array.from({ length: params.n }, emptyChoice);
  if (served.batcher) {
    return served.batcher.generate({
      prompt,
      n: params.n,
      maxNewTokens: params.maxNewTokens,
      sampling: { temperature: params.temperature, topP: params.topP, topK: params.topK },
      seed: params.seed,
      stop: params.stop,
      topLogprobs: params.topLogprobs,
      signal,
      onToken: onEvent && ((token) => onEvent({ choice: token.choice, delta: token.delta, token })),
    });
  }
  checkLogprobs(served, params.logprobs, params.topLogprobs, 'logprobs');
  const { model } = served;
  const settled = Array.from({ length: params.n }, () => new SettledTextStream(params.stop));
  const samples = await model.sample({
    prompt: model.capabilities.tokenIds ? prompt : model.tokenizer.decode(prompt),
    n: params.n,
    maxNewTokens: params.maxNewTokens,
    temperature: params.temperature,
    topP: params.topP,
    topK: params.topK,
    seed: params.seed,
    stop: params.stop,
    logprobs: params.logprobs,
    onSettledText:
      onEvent &&
      ((choice, text) => {
        signal.throwIfAborted();
        const delta = settled[choice].update(text);
        if (delta) onEvent({ choice, delta });
      }),
  });
  signal.throwIfAborted();
  return samples.map((sample, choice) => {
    const result = fromSample(served, sample, params.logprobs);
    const tail = settled[choice].finish(result.text);
    if (tail === null)
      throw new GatewayError(500, `choice ${choice}: the final text does not extend the text already streamed`);
    return { ...result, tail };
  });
}
