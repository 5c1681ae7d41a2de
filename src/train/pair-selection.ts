/**
 * iLR-DPO pair selection (notes §3.3): of N responses to one prompt, the best by selection
 * score is chosen and the worst rejected. The selection score is r − λ·|y|; λ defaults to 0
 * because the length penalty already enters through the loss margin α·(|y_w| − |y_l|), and
 * penalising both would count α twice (notes §3.2). A prompt is skipped when its responses are
 * all the same text, when every score ties (no preference to learn), or when fewer than two
 * responses have any text.
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
  { chosen: number; rejected: number; chosenScore: number; rejectedScore: number } | { skip: SkipReason };

export const selectionScore = (r: ScoredResponse, lengthPenalty: number) => r.reward - lengthPenalty * r.length;

/**
 * Best vs worst of one prompt's responses (indices into `responses`). Blank responses are not
 * candidates (a preference pair needs text on both sides); ties go to the earliest response.
 */
export function selectPair(responses: readonly ScoredResponse[], lengthPenalty = 0): Selection {
  const candidates = responses.map((_, i) => i).filter((i) => responses[i].text.trim() !== '');
  if (candidates.length < 2) return { skip: 'too-few' };
  if (candidates.every((i) => responses[i].text === responses[candidates[0]].text)) return { skip: 'identical' };
  const score = (i: number) => selectionScore(responses[i], lengthPenalty);
  let best = candidates[0],
    worst = candidates[0];
  for (const i of candidates) {
    if (score(i) > score(best)) best = i;
    if (score(i) < score(worst)) worst = i;
  }
  if (score(best) === score(worst)) return { skip: 'tied' };
  return { chosen: best, rejected: worst, chosenScore: score(best), rejectedScore: score(worst) };
}
