import type { Tokenizer } from '../tokenizers/tokenizer.ts';

/**
 * The response tokens [first, last) whose decoded text covers characters [start, end) of
 * decode(tokens). Found by binary search over decoded prefix lengths (O(log n) decodes).
 */
export function tokensCoveringChars(
  tokenizer: Tokenizer,
  tokens: readonly number[],
  start: number,
  end: number,
): [number, number] {
  const prefixLength = (k: number) => tokenizer.decode(tokens.slice(0, k)).length;
  // smallest k whose prefix extends past `position`: token k-1 holds that character
  const tokenAt = (position: number) => {
    let lo = 1,
      hi = tokens.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (prefixLength(mid) > position) hi = mid;
      else lo = mid + 1;
    }
    return lo - 1;
  };
  if (tokens.length === 0) return [0, 0];
  const first = tokenAt(start);
  const last = tokenAt(Math.max(start, end - 1)) + 1;
  return [first, Math.max(first + 1, last)];
}
