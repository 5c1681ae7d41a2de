import type { FinishReason } from '../lm/language-model.ts';

/** One growing response of a batch being sampled chunk by chunk. */
export interface ChunkRow {
  /** the response so far as text (what scorers and users see) */
  text: string;
  /** the sampling model's token ids of the response (empty when the backend cannot say) */
  tokens: number[];
  /** how many tokens of the sampling model the response holds (for max-new-tokens) */
  generated: number;
  /** null while the row may still grow */
  finishReason: FinishReason | null;
}

/** Settings shared by every sampler: applied after any token-level mixing. */
export interface SamplingOptions {
  maxNewTokens: number;
  /** 0 = greedy (default 1) */
  temperature?: number;
  /** 0 or undefined = off */
  topK?: number;
  topP?: number;
  /** a response ends at the first of these strings (the string is cut off) */
  stop?: readonly string[];
  /**
   * Called with the response text that is final (whichever row is returned starts with it) each
   * time it grows: every token when one row is sampled, the kept beams' common prefix after each
   * chunk of a beam search. A stop string may still cut its tail.
   */
  onSettled?: (text: string) => void;
}

/**
 * A batch of responses to one prompt that grows chunk by chunk and can be re-indexed (beam
 * selection) without recomputing anything already sampled.
 */
export interface ChunkSampler {
  readonly size: number;
  rows(): readonly ChunkRow[];
  /** Extends every unfinished row by up to `maxTokens` tokens (Infinity = to the end). */
  extend(maxTokens: number): Promise<void>;
  /** Row i becomes a copy of old row indices[i]. */
  reorder(indices: readonly number[]): void;
  close(): void;
}

export const cloneRow = (row: ChunkRow): ChunkRow => ({ ...row, tokens: [...row.tokens] });

/** Cuts text at the first stop string; returns null when none occurs. */
export function cutAtStop(text: string, stop: readonly string[] | undefined): string | null {
  if (!stop?.length) return null;
  let at = -1;
  for (const s of stop) {
    if (!s) continue;
    const i = text.indexOf(s);
    if (i >= 0 && (at < 0 || i < at)) at = i;
  }
  return at < 0 ? null : text.slice(0, at);
}

/** The longest common prefix of some texts ('' for none). */
export function commonPrefix(texts: readonly string[]): string {
  if (!texts.length) return '';
  let end = texts[0].length;
  for (const t of texts) {
    end = Math.min(end, t.length);
    for (let i = 0; i < end; i++)
      if (t.charCodeAt(i) !== texts[0].charCodeAt(i)) {
        end = i;
        break;
      }
  }
  return texts[0].slice(0, end);
}
