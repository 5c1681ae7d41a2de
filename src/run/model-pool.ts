/**
 * The models of a run, each loaded once: a reference named by several roles (the tuned model as
 * the aligned one, the SFT model as a margin model, a judge shared by the evaluated model's
 * guard) is one instance, and all are disposed together when the run ends.
 */
import type { LanguageModel } from '../lm/language-model.ts';
import { loadModel, type LoadOptions } from '../lm/load.ts';

export type ModelLoader = (ref: string, options: LoadOptions) => Promise<LanguageModel>;

export interface PoolOptions extends LoadOptions {
  /** the tokenizer of each reference (default: `tokenizer` for every one) */
  tokenizerFor?: (ref: string) => string | undefined;
}

export class ModelPool {
  private readonly models = new Map<string, Promise<LanguageModel>>();

  /** @param options load options of every model: API key variable, concurrency, cache folder, tokenizers */
  constructor(
    private readonly options: PoolOptions = {},
    private readonly loader: ModelLoader = loadModel,
  ) {}

  /** The model `ref` names; `tokenizer` overrides the pool's choice (a guided model's own config names one). */
  load = (ref: string, tokenizer?: string): Promise<LanguageModel> => {
    const { tokenizerFor, ...loadOptions } = this.options;
    tokenizer ??= tokenizerFor ? tokenizerFor(ref) : loadOptions.tokenizer;
    const key = `${ref}\u0000${tokenizer ?? ''}`;
    let model = this.models.get(key);
    if (!model) {
      model = this.loader(ref, { ...loadOptions, tokenizer });
      this.models.set(key, model);
      model.catch(() => this.models.delete(key));
    }
    return model;
  };

  /** Frees the instances of `ref` (e.g. a policy iterate that is done). */
  async release(ref: string): Promise<void> {
    for (const [key, model] of [...this.models]) {
      if (!key.startsWith(`${ref}\u0000`)) continue;
      this.models.delete(key);
      await (await model.catch(() => undefined))?.dispose();
    }
  }

  async dispose(): Promise<void> {
    const all = [...this.models.values()];
    this.models.clear();
    for (const model of all) await (await model.catch(() => undefined))?.dispose();
  }
}
