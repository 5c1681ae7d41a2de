import type { Usage } from '../lm/language-model.ts';
import { type PromptFormat, renderPrompt } from '../lm/prompt-format.ts';
import { type ScalarHeadModel, scalarHeadScores } from './scalar-head.ts';
import type { ScoreInput, Scorer } from './scorer.ts';
import type { BeamScorer } from './chunk-beam-search.ts';
import { CachedResponseScorer } from './cached-response-scorer.ts';

/**
 * An explicit value model for IVG's chunk-level search: V(x, y≤t), the expected final reward of
 * a partial response (trained by `alignkit train value` on partial responses). Higher = better.
 */
export interface ValueModel {
  readonly id: string;
  readonly usage?: Usage;
  values(items: readonly ScoreInput[]): Promise<number[]>;
  /**
   * The same values for the rows of a chunk beam search, keeping the model's KV cache across
   * chunks and beams (only new ids are run each round). Throws a capability error where the
   * backend has no such decode states.
   */
  openCached?(prompt: string, size: number): Promise<BeamScorer>;
}

/** A value model backed by a scalar-head model; the value is read at the last token of prompt + partial response. */
export function valueModelFromHead(model: ScalarHeadModel, format?: PromptFormat): ValueModel {
  return {
    id: model.id,
    get usage() {
      return model.usage;
    },
    values: (items) => scalarHeadScores(model, format, items),
    openCached: (prompt, size) =>
      CachedResponseScorer.open(model, renderPrompt(format, prompt, model.tokenizer), size, 'value'),
  };
}

export function valueScorer(value: ValueModel): Scorer {
  return { name: `value(${value.id})`, models: { value }, score: (items) => value.values(items) };
}
