import vader from 'vader-sentiment';
import Sentiment from 'sentiment';
import type { PromptFormat } from '../lm/prompt-format.ts';
import { type ScalarHeadModel, scalarHeadScores } from './scalar-head.ts';
import type { Scorer } from './scorer.ts';
import { inputError } from '../errors.ts';

export type SentimentLexicon = 'vader' | 'afinn';
export const SENTIMENT_LEXICONS: readonly SentimentLexicon[] = ['vader', 'afinn'];

interface Analyzers {
  vader: (text: string) => number;
  afinn: (text: string) => number;
}
let analyzers: Analyzers | undefined;

function loadAnalyzers(): Analyzers {
  if (!analyzers) {
    const afinn = new Sentiment();
    analyzers = {
      vader: (text) => vader.SentimentIntensityAnalyzer.polarity_scores(text).compound,
      afinn: (text) => (text.trim() ? afinn.analyze(text).comparative : 0),
    };
  }
  return analyzers;
}

/**
 * Gold sentiment reward for controlled-sentiment experiments, higher = more positive.
 * vader: VADER compound score in [-1, 1]; afinn: AFINN-165 score per word (the `sentiment`
 * package's "comparative"). Scores the response alone unless `includePrompt` (the paper's
 * classifier saw prompt + response; with a lexicon the prompt only adds a per-prompt offset).
 * Deterministic, pure JS.
 */
export function sentimentReward(options: { lexicon?: SentimentLexicon; includePrompt?: boolean } = {}): Scorer {
  const lexicon = options.lexicon ?? 'vader';
  if (!SENTIMENT_LEXICONS.includes(lexicon))
    throw inputError(`unknown sentiment lexicon "${lexicon}" (expected ${SENTIMENT_LEXICONS.join(' or ')})`, {
      field: 'reward',
    });
  return {
    name: `sentiment-${lexicon}`,
    async score(items) {
      const analyze = loadAnalyzers()[lexicon];
      return items.map((it) => analyze(options.includePrompt ? it.prompt + it.response : it.response));
    },
  };
}

/** A trained reward model (scalar head at the last token of prompt + response) as a Scorer. */
export function rewardModelScorer(model: ScalarHeadModel, format?: PromptFormat): Scorer {
  return {
    name: `reward(${model.id})`,
    models: { reward: model },
    score: (items) => scalarHeadScores(model, format, items),
  };
}
