import type { LanguageModel, Sample } from '../lm/language-model.ts';
import type { Rng } from '../util/random.ts';
import { inputError } from '../errors.ts';
import { type ChunkRow, type ChunkSampler, type SamplingOptions, cloneRow, cutAtStop } from './chunk-sampler.ts';
import { encodeWithBos } from '../lm/prompt-format.ts';

/**
 * Chunk sampler for a model that can only sample continuations (no next-token log-probs, e.g.
 * a black-box API): each chunk is one `sample` request per unfinished row, continuing the prompt
 * plus the response so far. With token-id prompts the response's own ids are sent back, so the
 * model never sees a re-tokenized response; otherwise the text is concatenated.
 */
export class TextChunkSampler implements ChunkSampler {
  private constructor(
    private readonly model: LanguageModel,
    private readonly prompt: string,
    private readonly promptIds: number[] | null,
    private readonly options: SamplingOptions,
    private readonly rng: Rng,
    private batch: ChunkRow[],
  ) {}

  static create(
    model: LanguageModel,
    prompt: string,
    size: number,
    options: SamplingOptions,
    rng: Rng,
  ): TextChunkSampler {
    const promptIds = model.capabilities.tokenIds ? encodeWithBos(model.tokenizer, prompt) : null;
    const promptLength = promptIds?.length ?? model.tokenizer.encode(prompt).length;
    if (promptLength >= model.capabilities.maxContext)
      throw inputError(
        `the prompt is ${promptLength} tokens for model "${model.id}", which has a context of ${model.capabilities.maxContext} tokens`,
        { field: 'prompt' },
      );
    const rows = Array.from({ length: size }, (): ChunkRow => ({
      text: '',
      tokens: [],
      generated: 0,
      finishReason: null,
    }));
    return new TextChunkSampler(model, prompt, promptIds, options, rng, rows);
  }

  get size(): number {
    return this.batch.length;
  }
  rows(): readonly ChunkRow[] {
    return this.batch;
  }

  async extend(maxTokens: number): Promise<void> {
    const { options } = this;
    const active = this.batch.filter((r) => r.finishReason === null);
    const seeds = active.map(() => this.rng.int(2 ** 31));
    const samples = await Promise.all(
      active.map((row, i) =>
        this.model.sample({
          prompt: this.promptIds ? [...this.promptIds, ...row.tokens] : this.prompt + row.text,
          n: 1,
          maxNewTokens: Math.max(1, Math.min(maxTokens, options.maxNewTokens - row.generated)),
          temperature: options.temperature,
          topK: options.topK || undefined,
          topP: options.topP,
          stop: options.stop,
          seed: seeds[i],
        }),
      ),
    );
    active.forEach((row, i) => this.grow(row, samples[i][0]));
  }

  private grow(row: ChunkRow, sample: Sample): void {
    // a backend that cannot name the sampled ids: count (and, for id prompts, continue from) a re-tokenization
    const tokens =
      sample.tokens.length > 0 || sample.text === ''
        ? sample.tokens
        : this.model.tokenizer.encode(sample.text, { addBos: false });
    if (sample.tokens.length > 0 || this.promptIds) row.tokens.push(...tokens);
    row.generated += tokens.length;
    row.text =
      this.promptIds && sample.tokens.length > 0
        ? this.model.tokenizer
            .decode([...this.promptIds, ...row.tokens])
            .slice(this.model.tokenizer.decode(this.promptIds).length)
        : row.text + sample.text;
    const cut = cutAtStop(row.text, this.options.stop);
    if (cut !== null) {
      row.text = cut;
      row.finishReason = 'stop';
      return;
    }
    if (sample.finishReason !== 'length') row.finishReason = sample.finishReason;
    else if (row.generated >= this.options.maxNewTokens || (sample.tokens.length === 0 && sample.text === ''))
      row.finishReason = 'length';
  }

  reorder(indices: readonly number[]): void {
    this.batch = indices.map((i) => cloneRow(this.batch[i]));
  }

  close(): void {}
}
