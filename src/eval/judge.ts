import { ContextLengthError } from '../errors.ts';
import type { LanguageModel } from '../lm/language-model.ts';
import type { ChatMessage } from '../tokenizers/tokenizer.ts';
import { renderChat, renderedText, sampleRendered, type RenderedChat } from './chat.ts';
import { JudgeCache, judgeCacheHash, type JudgeCacheKey } from './judge-cache.ts';

export interface JudgeSettings {
  /** temperature of the first attempt (0 = greedy, the default: judgements should be reproducible) */
  temperature: number;
  maxNewTokens: number;
  seed?: number;
  /** attempts before a judgement is recorded as a parse failure (>= 1) */
  maxAttempts: number;
  /**
   * temperature used for retries: a greedy judge would repeat the same unparseable output, so
   * retries sample at max(temperature, retryTemperature)
   */
  retryTemperature: number;
}

export const defaultJudgeSettings: JudgeSettings = {
  temperature: 0,
  maxNewTokens: 512,
  maxAttempts: 3,
  retryTemperature: 0.7,
};

/** A parser returns the value, or a string saying why the text is not a valid judgement. */
export type JudgeParser<T> = (text: string) => { value: T } | { error: string };

export type Judgement<T> =
  | { ok: true; value: T; raw: string; attempts: number }
  | { ok: false; error: string; raws: string[]; attempts: number };

/** How a recorded failure looks in results.jsonl and in the summary. */
export interface JudgeFailure {
  key: string;
  error: string;
  raws: string[];
}

/**
 * A model used as a judge: renders the benchmark's judge messages for the judge model (or takes
 * a raw prompt), samples, parses. A prompt longer than the judge's context is a failed judgement
 * of that item, not the end of the run. Every output is cached on disk keyed by (judge id,
 * prompt, settings, attempt), so a re-run with a warm cache makes no model calls and replays the
 * same outputs. Identical requests in flight share one call.
 */
export class Judge {
  readonly model: LanguageModel;
  readonly settings: JudgeSettings;
  readonly cache: JudgeCache | undefined;
  /** model calls actually made (cache misses) */
  calls = 0;
  private readonly inFlight = new Map<string, Promise<string>>();

  constructor(model: LanguageModel, settings: Partial<JudgeSettings> = {}, cache?: JudgeCache) {
    this.model = model;
    this.settings = { ...defaultJudgeSettings, ...settings };
    if (!(this.settings.maxAttempts >= 1)) throw new RangeError('maxAttempts must be >= 1');
    this.cache = cache;
  }

  get id(): string {
    return this.model.id;
  }

  /** Judges a conversation rendered for the judge model (its chat template, or its server's). */
  judgeChat<T>(messages: readonly ChatMessage[], parse: JudgeParser<T>): Promise<Judgement<T>> {
    return this.judgeRendered(renderChat(this.model, messages), parse);
  }

  /** Judges a prompt given verbatim. */
  judgePrompt<T>(prompt: string, parse: JudgeParser<T>): Promise<Judgement<T>> {
    return this.judgeRendered({ prompt }, parse);
  }

  private async judgeRendered<T>(rendered: RenderedChat, parse: JudgeParser<T>): Promise<Judgement<T>> {
    const raws: string[] = [];
    let lastError = '';
    for (let attempt = 0; attempt < this.settings.maxAttempts; attempt++) {
      let raw: string;
      try {
        raw = await this.output(rendered, attempt);
      } catch (e) {
        // a prompt too long for the judge fails this item only; another attempt would not fit either
        if (e instanceof ContextLengthError)
          return {
            ok: false,
            error: `the judge prompt does not fit the judge's context (${e.message})`,
            raws,
            attempts: attempt + 1,
          };
        throw e;
      }
      raws.push(raw);
      const parsed = parse(raw);
      if ('value' in parsed) return { ok: true, value: parsed.value, raw, attempts: attempt + 1 };
      lastError = parsed.error;
    }
    return { ok: false, error: lastError, raws, attempts: this.settings.maxAttempts };
  }

  private attemptSettings(attempt: number) {
    const { temperature, maxNewTokens, seed, retryTemperature } = this.settings;
    return {
      temperature: attempt === 0 ? temperature : Math.max(temperature, retryTemperature),
      maxNewTokens,
      seed: seed === undefined ? undefined : seed + attempt,
    };
  }

  private output(rendered: RenderedChat, attempt: number): Promise<string> {
    const settings = this.attemptSettings(attempt);
    const key: JudgeCacheKey = { judge: this.id, prompt: renderedText(rendered), settings, attempt };
    const cached = this.cache?.get(key);
    if (cached !== undefined) return Promise.resolve(cached);
    const hash = judgeCacheHash(key);
    const pending = this.inFlight.get(hash);
    if (pending) return pending;
    const call = (async () => {
      this.calls++;
      const text = await sampleRendered(this.model, rendered, settings);
      this.cache?.set(key, text);
      return text;
    })().finally(() => this.inFlight.delete(hash));
    this.inFlight.set(hash, call);
    return call;
  }
}
