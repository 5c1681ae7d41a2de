import { type LanguageModel, type ScoreItem, requireScoring } from '../lm/language-model.ts';
import { AlignkitError } from '../errors.ts';
import type { BeamScorer } from './chunk-beam-search.ts';
import { CachedResponseScorer } from './cached-response-scorer.ts';
import { type PromptFormat, renderPrompt } from '../lm/prompt-format.ts';
import { promptTokens, responseTokens } from '../lm/response-tokens.ts';
import type { ScoreInput, Scorer } from './scorer.ts';

/**
 * The weak-to-strong guidance pair: a small tuned model and its untuned reference, each with
 * its own prompt format. score(y) = log π_tuned(y|x) − log π_untuned(y|x) over the response ids
 * (no β, no length normalization; the EOS id counts only when the sampling model stopped).
 */
export interface GuidancePair {
  tuned: LanguageModel;
  untuned: LanguageModel;
  tunedFormat?: PromptFormat;
  untunedFormat?: PromptFormat;
}

const roles = (pair: GuidancePair) =>
  [
    { role: 'tuned', model: pair.tuned, format: pair.tunedFormat },
    { role: 'untuned', model: pair.untuned, format: pair.untunedFormat },
  ] as const;

/**
 * The log-ratio as a plain Scorer: every response is scored from scratch in one batched `score`
 * call per model. For Best-of-N and for checking the cached search scorer.
 */
export function logRatioScorer(pair: GuidancePair): Scorer {
  return {
    name: 'log-ratio',
    models: { tuned: pair.tuned, untuned: pair.untuned },
    async score(items) {
      const [tuned, untuned] = await Promise.all(
        roles(pair).map(({ model, format }) => responseLogprobs(model, format, items)),
      );
      return tuned.map((t, i) => t - untuned[i]);
    },
  };
}

async function responseLogprobs(
  model: LanguageModel,
  format: PromptFormat | undefined,
  items: readonly ScoreInput[],
): Promise<number[]> {
  if (!model.capabilities.scoring)
    throw new AlignkitError(
      'capability',
      `model "${model.id}" cannot score text (its backend gives no prompt log-probs), which the log-ratio scorer needs`,
    );
  const requests: ScoreItem[] = items.map((item) => {
    const prompt = renderPrompt(format, item.prompt, model.tokenizer);
    if (!model.capabilities.tokenIds) return { prefix: prompt, continuation: item.response };
    const t = responseTokens(model.tokenizer, prompt, promptTokens(model.tokenizer, prompt), item.response, {
      finished: true,
      eos: item.finishReason === 'eos',
    });
    return { prefix: t.ids.slice(0, t.responseStart), continuation: t.ids.slice(t.responseStart) };
  });
  const nonEmpty = requests.map((r, i) => i).filter((i) => requests[i].continuation.length > 0);
  const scored = nonEmpty.length
    ? await requireScoring(model, 'the log-ratio of responses')(nonEmpty.map((i) => requests[i]))
    : [];
  const out = new Array(items.length).fill(0);
  nonEmpty.forEach((i, j) => {
    out[i] = scored[j].total;
  });
  return out;
}

/**
 * The log-ratio for chunk-level search: both small models keep KV caches across chunks and
 * beams, so each round runs only the new ids of all W·K rows, in one batched append per model
 * (see CachedResponseScorer).
 */
export class LogRatioBeamScorer implements BeamScorer {
  readonly name = 'log-ratio';
  private constructor(
    private readonly tuned: CachedResponseScorer,
    private readonly untuned: CachedResponseScorer,
  ) {}

  static async open(pair: GuidancePair, rawPrompt: string, size: number): Promise<LogRatioBeamScorer> {
    const [t, u] = roles(pair);
    for (const { role, model } of [t, u])
      if (!model.capabilities.fullLogits || !model.capabilities.tokenIds)
        throw new AlignkitError(
          'capability',
          `the ${role} model "${model.id}" needs a KV-cached decode state (full log-probs over token ids) for cached search scoring; use an in-process model or score with logRatioScorer`,
        );
    const tuned = await CachedResponseScorer.open(t.model, renderPrompt(t.format, rawPrompt, t.model.tokenizer), size);
    try {
      const untuned = await CachedResponseScorer.open(
        u.model,
        renderPrompt(u.format, rawPrompt, u.model.tokenizer),
        size,
      );
      return new LogRatioBeamScorer(tuned, untuned);
    } catch (e) {
      tuned.close();
      throw e;
    }
  }

  async score(rows: readonly ScoreInput[]): Promise<number[]> {
    const [a, b] = await Promise.all([this.tuned.score(rows), this.untuned.score(rows)]);
    return a.map((x, i) => x - b[i]);
  }

  /** rows resumed from their snapshot (their last word re-tokenized), over both models */
  get rollbacks(): number {
    return this.tuned.rollbacks + this.untuned.rollbacks;
  }

  /** rows recomputed from scratch (a tokenizer re-tokenized earlier ids; 0 in normal runs) */
  get rebuilds(): number {
    return this.tuned.rebuilds + this.untuned.rebuilds;
  }

  reorder(indices: readonly number[]): void {
    this.tuned.reorder(indices);
    this.untuned.reorder(indices);
  }

  close(): void {
    this.tuned.close();
    this.untuned.close();
  }
}
