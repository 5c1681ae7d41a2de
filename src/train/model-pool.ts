/** Loads each model reference once and disposes them all together (a margin model may be the SFT model too). */
import type { LanguageModel } from '../lm/language-model.ts';
import { loadModel, type LoadOptions } from '../lm/load.ts';

export class ModelPool {
  private readonly models = new Map<string, Promise<LanguageModel>>();
  constructor(
    private readonly options: LoadOptions = {},
    private readonly loader: (ref: string, options: LoadOptions) => Promise<LanguageModel> = loadModel,
  ) {}

  load = (ref: string): Promise<LanguageModel> => {
    let m = this.models.get(ref);
    if (!m) {
      m = this.loader(ref, this.options);
      this.models.set(ref, m);
      m.catch(() => this.models.delete(ref));
    }
    return m;
  };

  /** Frees one model (e.g. a policy iterate that is done). */
  async release(ref: string): Promise<void> {
    const m = this.models.get(ref);
    this.models.delete(ref);
    await (await m?.catch(() => undefined))?.dispose();
  }

  async dispose(): Promise<void> {
    const all = [...this.models.values()];
    this.models.clear();
    for (const m of all) await (await m.catch(() => undefined))?.dispose();
  }
}
