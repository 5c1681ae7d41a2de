import type { FinishReason } from '../lm/language-model.ts';
import type { Candidate } from './chunk-beam-search.ts';
import type { UsageByRole } from './usage.ts';

/** What every steering method returns for one prompt. */
export interface SteerResult {
  method: string;
  text: string;
  /** the sampling model's token ids of the response (empty for text-only backends) */
  tokens: number[];
  finishReason: FinishReason;
  /** the method's own score of the response (log-ratio, value, reward); null when it ranks nothing */
  score: number | null;
  /** tokens each model processed for this prompt */
  usage: UsageByRole;
  /** chunks sampled (search methods) */
  rounds?: number;
  /** everything the method chose among (BoN samples, the last W·K beam rows) */
  candidates?: Candidate[];
  /** method-specific counters */
  stats?: Record<string, number>;
  /** search methods: wall time spent sampling chunks and scoring them */
  timing?: { samplingSeconds: number; scoringSeconds: number };
}

/** Knobs common to every method. */
export interface SeedOption {
  /** sampling seed (same seed, same models, same options → same response on the native backend) */
  seed?: number;
}

/** Runs `body` and closes everything it opened, also on errors. */
export async function withClosing<T>(open: { close(): void }[], body: () => Promise<T>): Promise<T> {
  try {
    return await body();
  } finally {
    for (const o of open) o.close();
  }
}
