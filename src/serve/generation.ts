import type { Sample } from '../lm/language-model.ts';
import type { ChoiceResult, TokenEvent } from './continuous-batcher.ts';
import { badRequest } from './errors.ts';
import type { ServedModel } from './served-model.ts';

export interface GenerationParams {
  n: number;
  maxNewTokens: number;
  temperature: number;
  topP: number;
  topK: number;
  seed?: number;
  stop: readonly string[];
  /** top alternatives per generated token; needs a model with full distributions */
  topLogprobs: number;
}

/** What a handler hears while a choice is generated: per token (batched models) or once (others). */
export interface GenerationEvent {
  choice: number;
  delta: string;
  token?: TokenEvent;
}

/** Tokens the model may still generate after a prompt: the request's max, capped by the context. */
export function generationBudget(served: ServedModel, promptLength: number, maxTokens: number): number {
  const context = served.model.capabilities.maxContext;
  if (promptLength >= context)
    throw badRequest(
      `the prompt has ${promptLength} tokens; the model's context is ${context}`,
      'prompt',
      'context_length_exceeded',
    );
  return Math.min(maxTokens, context - promptLength);
}

/** Fails early (before a stream starts) when top alternatives are asked of a model that has none. */
export function checkTopLogprobs(served: ServedModel, topLogprobs: number): void {
  if (topLogprobs > 0 && !served.batcher) {
    throw badRequest(
      `model "${served.name}" cannot return top log-probs of generated tokens (it has no full next-token distributions)`,
      'logprobs',
      'unsupported',
    );
  }
}

function fromSample(sample: Sample): ChoiceResult {
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
 * when the model gives full distributions, otherwise through the model's own `sample`
 * (remote and guided models), reported as one event per choice.
 */
export async function generate(
  served: ServedModel,
  prompt: readonly number[],
  params: GenerationParams,
  signal: AbortSignal,
  onEvent?: (event: GenerationEvent) => void,
): Promise<ChoiceResult[]> {
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
  checkTopLogprobs(served, params.topLogprobs);
  const { model } = served;
  const samples = await model.sample({
    prompt: model.capabilities.tokenIds ? prompt : model.tokenizer.decode(prompt),
    n: params.n,
    maxNewTokens: params.maxNewTokens,
    temperature: params.temperature,
    topP: params.topP,
    topK: params.topK,
    seed: params.seed,
    stop: params.stop,
    logprobs: true,
  });
  signal.throwIfAborted();
  const results = samples.map(fromSample);
  results.forEach((r, choice) => onEvent?.({ choice, delta: r.text }));
  return results;
}
