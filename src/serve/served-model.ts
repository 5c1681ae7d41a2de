import { createHash } from 'node:crypto';
import type { LanguageModel } from '../lm/language-model.ts';
import { RemoteTokenizer, UnavailableTokenizer } from '../lm/openai/remote-tokenizer.ts';
import { charsFor } from '../tokenizers/token-chars.ts';
import { ContinuousBatcher } from './continuous-batcher.ts';
import { inputError } from '../errors.ts';
import { unknownModel } from './errors.ts';
import { GuidedModel } from './guided-model.ts';

/** How soon a model's text is final, hence how finely a stream of it can arrive. */
export interface Streaming {
  unit: 'token' | 'chunk' | 'whole';
  /** why a `whole` model cannot stream, said in the README and in each stream's x-alignkit-streaming header */
  why?: string;
}

/** A model as the gateway serves it under a name. */
export interface ServedModel {
  name: string;
  model: LanguageModel;
  /** guided models run a steering method; the others are plain models (native or remote) */
  guided: boolean;
  /** set for models with full next-token distributions: their requests are batched step by step */
  batcher?: ContinuousBatcher;
  /** the model can say the log-prob of each token it generates */
  tokenLogprobs: boolean;
  streaming: Streaming;
  /**
   * Prompts longer than this many characters cannot fit the context whatever they hold (the
   * context × the longest token's characters, doubled for tokenizers that normalize text):
   * they are refused before tokenizing. Infinity when the tokenizer is remote.
   */
  maxPromptChars: number;
  /** OpenAI's system_fingerprint: names this configuration of the served model */
  fingerprint: string;
  /** unix seconds, for /v1/models */
  created: number;
}

function maxPromptChars(model: LanguageModel): number {
  const { tokenizer } = model;
  const context = model.capabilities.maxContext;
  if (!Number.isFinite(context) || tokenizer instanceof RemoteTokenizer || tokenizer instanceof UnavailableTokenizer)
    return Infinity;
  return charsFor(tokenizer, context);
}

const WHOLE_REMOTE: Streaming = {
  unit: 'whole',
  why: 'the upstream server is asked for whole responses, which arrive at once',
};

export function serveModel(
  name: string,
  model: LanguageModel,
  options: { maxBatchSequences?: number } = {},
): ServedModel {
  const { fullLogits, tokenIds } = model.capabilities;
  const batcher =
    fullLogits && tokenIds ? new ContinuousBatcher(model, new Set(model.eosIds), options.maxBatchSequences) : undefined;
  const guided = model instanceof GuidedModel;
  return {
    name,
    model,
    guided,
    batcher,
    tokenLogprobs: !guided,
    streaming: batcher ? { unit: 'token' } : guided ? model.streaming : WHOLE_REMOTE,
    maxPromptChars: maxPromptChars(model),
    fingerprint: `fp_${createHash('sha256')
      .update(JSON.stringify([name, model.id, guided ? model.config : null]))
      .digest('hex')
      .slice(0, 12)}`,
    created: Math.floor(Date.now() / 1000),
  };
}

export class ModelTable {
  private readonly byName = new Map<string, ServedModel>();

  constructor(models: readonly ServedModel[]) {
    for (const m of models) {
      if (this.byName.has(m.name)) throw inputError(`two models are served as "${m.name}"; each needs its own name`);
      this.byName.set(m.name, m);
    }
  }

  get names(): string[] {
    return [...this.byName.keys()];
  }

  get all(): ServedModel[] {
    return [...this.byName.values()];
  }

  /** The named model; with no name, the only model when exactly one is served. */
  get(name: string | undefined): ServedModel {
    if (name === undefined && this.byName.size === 1) return this.all[0];
    const found = name === undefined ? undefined : this.byName.get(name);
    if (!found) throw unknownModel(name ?? '(none given)', this.names);
    return found;
  }
}
