/** A token id and its log-prob. */
export type TokenLogprob = [id: number, logprob: number];

/** The k most likely tokens of `row[offset .. offset+vocab)`, most likely first (ties: lower id first). */
export function topTokens(row: ArrayLike<number>, offset: number, vocab: number, k: number): TokenLogprob[] {
  if (k <= 0) return [];
  const top: TokenLogprob[] = [];
  for (let id = 0; id < vocab; id++) {
    const lp = row[offset + id];
    if (lp === -Infinity || Number.isNaN(lp)) continue;
    if (top.length === k && lp <= top[k - 1][1]) continue;
    let at = top.length;
    while (at > 0 && top[at - 1][1] < lp) at--;
    top.splice(at, 0, [id, lp]);
    if (top.length > k) top.pop();
  }
  return top;
}

/** 1 + the number of tokens strictly more likely than `id` (vLLM's `rank`). */
export function rankOf(row: ArrayLike<number>, offset: number, vocab: number, id: number): number {
  const lp = row[offset + id];
  let rank = 1;
  for (let i = 0; i < vocab; i++) if (row[offset + i] > lp) rank++;
  return rank;
}
