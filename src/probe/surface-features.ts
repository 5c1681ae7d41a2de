import { fromRows, type Matrix } from './matrix.ts';
import type { StoredItem } from './representation-store.ts';

/** Names of the prompt-only surface features, in column order. */
export const surfaceFeatureNames = [
  'prompt chars',
  'prompt tokens',
  'prompt words',
  'prompt lines',
  'prompt sentences',
  'log prompt tokens',
] as const;

/**
 * Features a probe could use without any hidden state: how long the prompt is, in several
 * units. A hidden-state probe that does not beat these has not shown any "planning".
 */
export function surfaceFeatures(items: readonly StoredItem[]): Matrix {
  return fromRows(
    items.map((item) => {
      const p = item.prompt;
      return [
        item.promptChars,
        item.promptTokens,
        p.split(/\s+/).filter(Boolean).length,
        p.split('\n').length,
        p.split(/[.!?]+(?:\s|$)/).filter((s) => s.trim()).length,
        Math.log1p(item.promptTokens),
      ];
    }),
  );
}
