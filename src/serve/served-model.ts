import type { LanguageModel } from '../lm/language-model.ts';
import { ContinuousBatcher } from './continuous-batcher.ts';
import { inputError } from '../errors.ts';
import { unknownModel } from './errors.ts';

/** A model as the gateway serves it under a name. */
export interface ServedModel {
  name: string;
  model: LanguageModel;
  /** guided models run a steering method; the others are plain models (native or remote) */
  guided: boolean;
  /** set for models with full next-token distributions: their requests are batched step by step */
  batcher?: ContinuousBatcher;
  /** unix seconds, for /v1/models */
  created: number;
}

export function serveModel(
  name: string,
  model: LanguageModel,
  options: { guided?: boolean; maxBatchSequences?: number } = {},
): ServedModel {
  const { fullLogits, tokenIds } = model.capabilities;
  const batcher =
    fullLogits && tokenIds ? new ContinuousBatcher(model, new Set(model.eosIds), options.maxBatchSequences) : undefined;
  return { name, model, guided: options.guided ?? false, batcher, created: Math.floor(Date.now() / 1000) };
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
