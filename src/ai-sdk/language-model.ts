/**
 * An alignkit model as a language model of the Vercel AI SDK (provider specification v4,
 * `@ai-sdk/provider`): generation runs in-process through the gateway's generation path
 * (serve/generation.ts), so a native model samples token by token (continuous batching with
 * other calls, text streamed per token, stop strings held back until they cannot match), a
 * guided model streams what its search has settled, and a remote model answers whole.
 *
 * Mapping (as the SDK documents its fields): `maxOutputTokens` caps the response (the rest of
 * the context at most; default from the provider settings), `temperature` (default 1), `topP`,
 * `topK`, `stopSequences` (the text ends before the stop, finish reason "stop"), `seed` (same
 * seed, same text on native and guided models), `abortSignal` (the generation stops at the next
 * token and the call rejects with the signal's reason). Finish reasons: the model's end token and
 * a stop sequence are "stop" (raw "eos" / "stop"), the token limit is "length". Usage counts the
 * prompt's tokens and the response's tokens in the sampling model's tokenizer. Tools, JSON
 * response formats and penalties are not supported: each is reported as a warning.
 */
import type {
  LanguageModelV4,
  LanguageModelV4CallOptions,
  LanguageModelV4FinishReason,
  LanguageModelV4GenerateResult,
  LanguageModelV4StreamPart,
  LanguageModelV4StreamResult,
  LanguageModelV4Usage,
  SharedV4Warning,
} from '@ai-sdk/provider';
import { ContextLengthError } from '../errors.ts';
import type { FinishReason } from '../lm/language-model.ts';
import { encodeWithBos } from '../lm/prompt-format.ts';
import type { ChoiceResult } from '../serve/continuous-batcher.ts';
import type { GenerationEvent, GenerationParams } from '../serve/generation.ts';
import type { ServedModel } from '../serve/served-model.ts';
import { promptText, type PromptFormatName } from './prompt.ts';

/** The provider's settings that fill in what a call leaves open. */
export interface CallDefaults {
  /** how messages become the prompt */
  promptFormat: PromptFormatName;
  /** response tokens at most when the call sets no maxOutputTokens */
  maxOutputTokens: number;
}

const finishReason = (reason: FinishReason): LanguageModelV4FinishReason => ({
  unified: reason === 'length' ? 'length' : 'stop',
  raw: reason,
});

function usage(promptTokens: number, result: ChoiceResult): LanguageModelV4Usage {
  // a remote model that reports no token ids cannot say how many it generated
  const output = result.tokens.length || !result.text ? result.tokens.length : undefined;
  return {
    inputTokens: { total: promptTokens, noCache: promptTokens, cacheRead: undefined, cacheWrite: undefined },
    outputTokens: { total: output, text: output, reasoning: undefined },
  };
}

/** The call's settings that an alignkit model ignores, as the SDK's warnings. */
function warningsOf(options: LanguageModelV4CallOptions): SharedV4Warning[] {
  const warnings: SharedV4Warning[] = [];
  const unsupported = (feature: string, details: string) => warnings.push({ type: 'unsupported', feature, details });
  if (options.tools?.length) unsupported('tools', 'alignkit models have no tool calling');
  if (options.toolChoice && options.toolChoice.type !== 'none' && options.toolChoice.type !== 'auto')
    unsupported('toolChoice', 'alignkit models have no tool calling');
  if (options.responseFormat?.type === 'json')
    unsupported('responseFormat', 'JSON output is not enforced; the model generates free text');
  if (options.presencePenalty !== undefined) unsupported('presencePenalty', 'not implemented by alignkit samplers');
  if (options.frequencyPenalty !== undefined) unsupported('frequencyPenalty', 'not implemented by alignkit samplers');
  return warnings;
}

/** One alignkit model (loaded on its first call) as an AI SDK language model. */
export class AlignkitLanguageModel implements LanguageModelV4 {
  /** the AI SDK language model specification this implements */
  readonly specificationVersion = 'v4';
  readonly provider = 'alignkit';
  /** no URLs: file parts are refused, so none is fetched by the model */
  readonly supportedUrls = {};

  /**
   * @param modelId the model's reference (path, BASE_URL#MODEL, or `guided:<config>`)
   * @param served loads the model on the first call
   */
  constructor(
    readonly modelId: string,
    private readonly served: () => Promise<ServedModel>,
    private readonly defaults: CallDefaults,
  ) {}

  /** The prompt as token ids and the generation parameters of a call. */
  private async prepare(options: LanguageModelV4CallOptions) {
    const served = await this.served();
    const { model } = served;
    const text = promptText(options.prompt, model.tokenizer, this.defaults.promptFormat);
    const prompt = encodeWithBos(model.tokenizer, text);
    const context = model.capabilities.maxContext;
    if (prompt.length >= context)
      throw new ContextLengthError(
        `the prompt has ${prompt.length} tokens; the context of model "${this.modelId}" is ${context} tokens, so nothing can be generated`,
      );
    const params: GenerationParams = {
      n: 1,
      maxNewTokens: Math.min(options.maxOutputTokens ?? this.defaults.maxOutputTokens, context - prompt.length),
      temperature: options.temperature ?? 1,
      topP: options.topP ?? 1,
      topK: options.topK ?? 0,
      seed: options.seed,
      stop: options.stopSequences ?? [],
      logprobs: false,
      topLogprobs: 0,
    };
    const { generate } = await import('../serve/generation.ts');
    return { served, prompt, params, warnings: warningsOf(options), generate };
  }

  /** One whole response (`generateText`). */
  async doGenerate(options: LanguageModelV4CallOptions): Promise<LanguageModelV4GenerateResult> {
    const { served, prompt, params, warnings, generate } = await this.prepare(options);
    const signal = options.abortSignal ?? new AbortController().signal;
    const [result] = await generate(served, prompt, params, signal);
    return {
      content: result.text ? [{ type: 'text', text: result.text }] : [],
      finishReason: finishReason(result.finishReason),
      usage: usage(prompt.length, result),
      warnings,
      response: { modelId: this.modelId, timestamp: new Date() },
    };
  }

  /** One response as a stream of text deltas (`streamText`). */
  async doStream(options: LanguageModelV4CallOptions): Promise<LanguageModelV4StreamResult> {
    const { served, prompt, params, warnings, generate } = await this.prepare(options);
    // the caller's signal, or the stream's own cancellation, stops the generation
    const abort = new AbortController();
    const onAbort = () => abort.abort(options.abortSignal?.reason);
    options.abortSignal?.addEventListener('abort', onAbort, { once: true });
    if (options.abortSignal?.aborted) onAbort();
    const id = 'text-0';
    const stream = new ReadableStream<LanguageModelV4StreamPart>({
      start: (controller) => {
        controller.enqueue({ type: 'stream-start', warnings });
        controller.enqueue({ type: 'response-metadata', modelId: this.modelId, timestamp: new Date() });
        controller.enqueue({ type: 'text-start', id });
        const onEvent = (event: GenerationEvent) => {
          if (event.delta) controller.enqueue({ type: 'text-delta', id, delta: event.delta });
        };
        generate(served, prompt, params, abort.signal, onEvent)
          .then(([result]) => {
            if (result.tail) controller.enqueue({ type: 'text-delta', id, delta: result.tail });
            controller.enqueue({ type: 'text-end', id });
            controller.enqueue({
              type: 'finish',
              finishReason: finishReason(result.finishReason),
              usage: usage(prompt.length, result),
            });
            controller.close();
          })
          .catch((error: unknown) => {
            if (abort.signal.aborted) controller.error(abort.signal.reason ?? error);
            else {
              controller.enqueue({ type: 'error', error });
              controller.close();
            }
          })
          .finally(() => options.abortSignal?.removeEventListener('abort', onAbort));
      },
      cancel: () => abort.abort(),
    });
    return { stream };
  }
}
