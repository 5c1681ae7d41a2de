import { type DecodeState, type LanguageModel, type LogprobMatrix, requireDecoding } from '../lm/language-model.ts';
import type { Rng } from '../util/random.ts';
import { sampleToken } from '../lm/sampling.ts';
import { AlignkitError, inputError } from '../errors.ts';
import { type ChunkRow, type ChunkSampler, type SamplingOptions, cloneRow } from './chunk-sampler.ts';
import { StreamingText } from '../tokenizers/streaming-text.ts';
import { mixLogprobs, mixScores } from './mixture.ts';
import { assertSameVocabulary } from './vocabulary.ts';
import { encodeWithBos } from '../lm/prompt-format.ts';

/** A model in a token-level mixture, with the prompt text it sees (models may see different templates). */
export interface WeightedModel {
  role: string;
  model: LanguageModel;
  weight: number;
  prompt: string;
}

export interface TokenStreamOptions extends SamplingOptions {
  /** ids never sampled, applied after mixing (ED suppresses EOS when stop strings end responses) */
  suppress?: readonly number[];
  /** name used in error messages, e.g. "eft" */
  method?: string;
}

/**
 * Samples one token stream per row from log-softmax(Σ weight·log p_model), each model keeping
 * its own prompt and KV cache; every sampled token is appended to every model. With one model of
 * weight 1 this is plain sampling from it. Used by sampling, BoN and W2S (the large model alone),
 * EFT, ED and IVG (mixtures). Temperature/top-k/top-p act on the mixed distribution.
 */
export class TokenStreamSampler implements ChunkSampler {
  /**
   * Wall time of open() and extend() so far, and the part spent in the models (prompt prefill
   * and forks, next-token distributions, appends): the rest is the method's own work (checks,
   * prompt encoding, mixing, sampling, stop strings), all of which a caller waits for.
   */
  readonly timing: { totalMs: number; modelMs: number };
  /** the mixed scores of the latest token, overwritten by the next */
  private scores: Float32Array = new Float32Array(0);

  private constructor(
    private readonly terms: readonly WeightedModel[],
    private states: DecodeState[],
    private readonly maxLength: number,
    private readonly options: TokenStreamOptions,
    private readonly rng: Rng,
    private batch: ChunkRow[],
    /** each row's response text, kept incrementally (decoded after the prompt, cut at a stop string) */
    private texts: StreamingText[],
    openTiming: { totalMs: number; modelMs: number },
  ) {
    this.timing = openTiming;
  }

  get size(): number {
    return this.batch.length;
  }

  static async open(
    terms: readonly WeightedModel[],
    size: number,
    options: TokenStreamOptions,
    rng: Rng,
  ): Promise<TokenStreamSampler> {
    const started = performance.now();
    let modelMs = 0;
    const method = options.method ?? 'token sampling';
    if (terms.length === 0) throw inputError(`${method} needs at least one model`);
    if (!Number.isInteger(size) || size < 1) throw inputError(`number of rows must be a positive integer, got ${size}`);
    for (const t of terms) {
      const c = t.model.capabilities;
      if (!c.fullLogits || !c.tokenIds)
        throw new AlignkitError(
          'capability',
          `${method} needs full next-token log-probs over token ids from the ${t.role} model "${t.model.id}", which this backend does not provide`,
        );
    }
    if (terms.length > 1) assertSameVocabulary(terms, method);
    let maxLength = options.maxNewTokens;
    const prompts = terms.map((t) => encodeWithBos(t.model.tokenizer, t.prompt));
    terms.forEach((t, i) => {
      const room = t.model.capabilities.maxContext - prompts[i].length;
      if (room < 1)
        throw inputError(
          `the prompt is ${prompts[i].length} tokens for the ${t.role} model "${t.model.id}", which has a context of ${t.model.capabilities.maxContext} tokens`,
          { field: 'prompt' },
        );
      maxLength = Math.min(maxLength, room);
    });
    const states: DecodeState[] = [];
    try {
      for (let i = 0; i < terms.length; i++) {
        const open = requireDecoding(terms[i].model, `token-level sampling (${terms[i].role})`);
        const t = performance.now();
        const single = await open([prompts[i]]);
        states.push(single.fork(new Array(size).fill(0)));
        single.close();
        modelMs += performance.now() - t;
      }
    } catch (e) {
      for (const s of states) s.close();
      throw e;
    }
    const rows = Array.from({ length: size }, (): ChunkRow => ({
      text: '',
      tokens: [],
      generated: 0,
      finishReason: null,
    }));
    const texts = rows.map(() => new StreamingText(terms[0].model.tokenizer, options.stop ?? [], prompts[0]));
    return new TokenStreamSampler(terms, states, maxLength, options, rng, rows, texts, {
      totalMs: performance.now() - started,
      modelMs,
    });
  }

  rows(): readonly ChunkRow[] {
    return this.batch;
  }

  async extend(maxTokens: number): Promise<void> {
    const { options } = this;
    const eos = this.terms[0].model.tokenizer.eosId;
    const sampling = { temperature: options.temperature, topK: options.topK, topP: options.topP };
    const random = () => this.rng.next();
    const started = performance.now();
    for (let step = 0; step < maxTokens && this.batch.some((r) => r.finishReason === null); step++) {
      const next = await this.nextScores();
      const chunks: number[][] = this.batch.map(() => []);
      this.batch.forEach((row, r) => {
        if (row.finishReason !== null) return;
        const token = sampleToken(next.data, r * next.vocab, next.vocab, sampling, random);
        if (token === eos) {
          row.finishReason = 'eos';
          return;
        }
        row.tokens.push(token);
        row.generated++;
        const text = this.texts[r];
        text.push(token);
        if (text.stopped) {
          row.finishReason = 'stop';
          return;
        }
        if (row.generated >= this.maxLength) {
          row.finishReason = 'length';
          return;
        }
        chunks[r].push(token);
      });
      if (chunks.some((c) => c.length > 0)) {
        const t = performance.now();
        await Promise.all(this.states.map((s) => s.append(chunks)));
        this.timing.modelMs += performance.now() - t;
      }
      // one row: every sampled token is final (many rows: their search says what is)
      if (options.onSettled && this.batch.length === 1) options.onSettled(this.texts[0].peek());
    }
    this.timing.totalMs += performance.now() - started;
    this.batch.forEach((row, r) => {
      row.text = this.texts[r].peek();
    });
  }

  /** The distribution each row's next token is drawn from, before temperature/top-k/top-p. */
  async nextDistribution(): Promise<LogprobMatrix> {
    const lps = await this.modelLogprobs();
    return this.unmixed(lps) ?? mixLogprobs(this.weighted(lps), this.options.suppress);
  }

  /** The same up to a constant per row, which is all sampling needs, in a buffer reused every token. */
  private async nextScores(): Promise<LogprobMatrix> {
    const lps = await this.modelLogprobs();
    const unmixed = this.unmixed(lps);
    if (unmixed) return unmixed;
    const mixed = mixScores(this.weighted(lps), this.options.suppress, this.scores);
    this.scores = mixed.data;
    return mixed;
  }

  private async modelLogprobs(): Promise<LogprobMatrix[]> {
    const t = performance.now();
    const lps = await Promise.all(this.states.map((s) => s.nextLogprobs()));
    this.timing.modelMs += performance.now() - t;
    return lps;
  }

  /** One model of weight 1 and nothing suppressed: its own log-probs, no mixing. */
  private unmixed(lps: LogprobMatrix[]): LogprobMatrix | null {
    const [only] = this.terms;
    return this.terms.length === 1 && only.weight === 1 && !this.options.suppress?.length ? lps[0] : null;
  }

  private weighted(lps: LogprobMatrix[]) {
    return lps.map((logprobs, i) => ({ logprobs, weight: this.terms[i].weight }));
  }

  reorder(indices: readonly number[]): void {
    const old = this.states;
    this.states = old.map((s) => s.fork(indices));
    for (const s of old) s.close();
    this.batch = indices.map((i) => cloneRow(this.batch[i]));
    this.texts = indices.map((i) => this.texts[i].clone());
  }

  close(): void {
    for (const s of this.states) s.close();
    this.states = [];
  }
}

/**
 * Samples `rows` complete responses from a mixture. Vocabularies are checked across all models;
 * models of weight 0 are then left out, so they cost nothing and weight 0 reproduces the others
 * exactly (EFT with β = 0 is the large model, ED with α = 0 the base model).
 */
export async function sampleMixture(
  terms: readonly WeightedModel[],
  rows: number,
  options: TokenStreamOptions,
  rng: Rng,
): Promise<ChunkRow[]> {
  if (terms.length > 1) assertSameVocabulary(terms, options.method ?? 'token-level mixing');
  const sampler = await TokenStreamSampler.open(
    terms.filter((t) => t.weight !== 0),
    rows,
    options,
    rng,
  );
  try {
    await sampler.extend(Infinity);
    return sampler.rows().map(cloneRow);
  } finally {
    sampler.close();
  }
}
