/**
 * Concept problems as SFT examples: TRL prompt-completion records with where each came from, and
 * the pool problems dropped as duplicates of evaluation items (with the match that dropped them).
 */
import type { ChatMessage } from '../../tokenizers/tokenizer.ts';
import { withoutDuplicates, type DuplicateIndex, type DuplicateMatch } from './near-duplicates.ts';
import { solutionCompletion, type PoolProblem } from './problem-pool.ts';

export type DataSource = 'retrieved' | 'generated' | 'general';

/** One SFT example in TRL's prompt-completion format (chat messages), with where it came from. */
export interface TrainingRecord {
  prompt: ChatMessage[];
  completion: ChatMessage[];
  source: DataSource;
  /** the targeted concept (unit id) for concept data */
  concept?: string;
  /** pool `<file>:<line>` or generation key */
  origin: string;
}

export interface RemovedDuplicate {
  source: DataSource | 'pool';
  origin: string;
  question: string;
  match: DuplicateMatch;
}

export function trainingRecord(
  p: Pick<PoolProblem, 'question' | 'solution' | 'answer'>,
  source: DataSource,
  origin: string,
  concept?: string,
): TrainingRecord {
  return {
    prompt: [{ role: 'user', content: p.question }],
    completion: [{ role: 'assistant', content: solutionCompletion(p) }],
    source,
    ...(concept ? { concept } : {}),
    origin,
  };
}

/** Drops pool problems that duplicate evaluation items, recording each. */
export function cleanPool<T extends PoolProblem>(
  pool: readonly T[],
  index: DuplicateIndex,
): { clean: T[]; removed: RemovedDuplicate[] } {
  const { kept, removed } = withoutDuplicates(pool, (p) => p.question, index);
  return {
    clean: kept,
    removed: removed.map(({ item, match }) => ({
      source: 'pool' as const,
      origin: item.id,
      question: item.question,
      match,
    })),
  };
}
