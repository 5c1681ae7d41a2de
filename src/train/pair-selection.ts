/**
 * iLR-DPO pair selection (notes §3.3): of N responses to one prompt, the best by selection
 * score is chosen and the worst rejected. The selection score is r − λ·|y|; λ defaults to 0
 * because the length penalty already enters through the loss margin α·(|y_w| − |y_l|), and
 * penalising both would count α twice (notes §3.2). A prompt is skipped when its responses are
 * all the same text, or when every score ties (no preference to learn).
 */
export interface ScoredResponse {
  text: string;
  /** reward-model score */
  reward: number;
  /** response length in policy tokens */
  length: number;
}

export type SkipReason = 'identical' | 'tied' | 'too-few';

export type Selection =
  | { chosen: number; rejected: number; chosenScore: number; rejectedScore: number }
  | { skip: SkipReason };

export const selectionScore = (r: ScoredResponse, lengthPenalty: number) => r.reward - lengthPenalty * r.length;

export function selectPair(responses: readonly ScoredResponse[], lengthPenalty = 0): Selection {
  if (responses.length < 2) return { skip: 'too-few' };
  if (responses.every((r) => r.text === responses[0].text)) return { skip: 'identical' };
  const scores = responses.map((r) => selectionScore(r, lengthPenalty));
  let best = 0, worst = 0;
  scores.forEach((s, i) => {
    if (s > scores[best]) best = i;
    if (s < scores[worst]) worst = i;
  });
  if (scores[best] === scores[worst] || responses[best].text === responses[worst].text) return { skip: 'tied' };
  return { chosen: best, rejected: worst, chosenScore: scores[best], rejectedScore: scores[worst] };
}
