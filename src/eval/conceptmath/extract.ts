/**
 * ConceptMath answer extraction and matching (benchmarks.md §2.5, the released
 * `match_utils.main_exam_number_correct`), for English and Chinese responses.
 */
import { evaluateExpression } from './evaluate-expression.ts';

/** Answer markers, in the reference's order. */
export const ANSWER_MARKERS = [
  '答案是',
  '答案：',
  'answer (arabic numbers) is',
  '(arabic numerals) is',
  'answer is:',
  'answer is :',
  'answer is',
  'Therefore, the answer (arab',
  'Answer: ',
  '结果是',
  '结果为',
  '答案为',
  '答案是',
  '得出答案',
  '所以',
  '因此',
] as const;

/**
 * Narrows the response to the text after its answer marker: for each marker in order, exactly
 * one occurrence keeps the text after it and stops; several keep the text after the last one
 * and go on with the next marker; none go on.
 */
export function narrowToAnswer(response: string): string {
  let text = response;
  for (const marker of ANSWER_MARKERS) {
    const parts = text.split(marker);
    if (parts.length === 2) {
      text = parts[1];
      break;
    }
    if (parts.length > 2) text = parts[parts.length - 1];
  }
  return text.trim();
}

const NUMBER_WORDS: Record<string, number> = {
  zero: 0,
  one: 1,
  two: 2,
  three: 3,
  four: 4,
  five: 5,
  six: 6,
  seven: 7,
  eight: 8,
  nine: 9,
  ten: 10,
  eleven: 11,
  twelve: 12,
  thirteen: 13,
  fourteen: 14,
  fifteen: 15,
  sixteen: 16,
  seventeen: 17,
  eighteen: 18,
  nineteen: 19,
  twenty: 20,
  thirty: 30,
  forty: 40,
  fifty: 50,
  sixty: 60,
  seventy: 70,
  eighty: 80,
  ninety: 90,
  first: 1,
  second: 2,
  third: 3,
  fourth: 4,
  'one hundred': 100,
};
// Longest first so "one hundred" wins over "one". (The reference's pattern lacks a '|' between
// "fourth" and "eleven", so neither word is replaced there; we replace both, as intended.)
const NUMBER_WORD_RE = new RegExp(
  `\\b(${Object.keys(NUMBER_WORDS)
    .sort((a, b) => b.length - a.length)
    .join('|')})\\b`,
  'g',
);

/** Number words to digits (lower case, as the reference) and thousands commas removed. */
export function normalizeNumbers(text: string): string {
  return text.replace(NUMBER_WORD_RE, (w) => String(NUMBER_WORDS[w])).replace(/(?<=\d),(?=\d)/g, '');
}

// Signed integers/decimals, fractions a/b, mixed numbers "a b/c", an optional π / pi / \pi
// suffix and %, or a $...$ LaTeX span without x, y, z, $, |, or parentheses.
const CANDIDATE_RE =
  /[-+]?(?:(?:\d+(?:\.\d+)?\/\d+(?:\.\d+)?|\d+\s+\d+\/\d+|\d+(?:\.\d+)?)(?:\*?(?:π|\\pi|\\\\pi|pi))?%?|\$[^($|xyz)]*\$)/g;

/** Every numeric candidate in the (narrowed, normalized) text; "a=b" spans keep the part after the last '='. */
export function extractCandidates(text: string): string[] {
  return [...text.matchAll(CANDIDATE_RE)].map((m) => (m[0].includes('=') ? m[0].split('=').pop()! : m[0]));
}

/** The gold values: brackets and underscores stripped, split on commas (ASCII or full-width). */
export function goldValues(answer: string): string[] {
  return answer
    .replace(/[[\]_]/g, '')
    .replace(/，/g, ',')
    .split(',');
}

/** The reference's `simplify`: mixed fractions, `$`, minus signs, p% → p/100, π → 3.14, then evaluated. */
export function valueOf(expr: string): number | undefined {
  let s = expr.replace(/(\d+)\s+(\d+)\/(\d+)/g, (_, w, n, d) => `${Number(w) * Number(d) + Number(n)}/${d}`);
  s = s.replace(/[$ \t]/g, '').replace(/[−﹣]/g, '-');
  s = s.replace(/(\d+(\.\d+)?)%/g, (_, p) => String(Number(p) / 100));
  s = s.replace(/π|\\\\pi|\\pi|pi/g, (_m, offset: number, whole: string) =>
    offset > 0 && /\d/.test(whole[offset - 1]) ? '*3.14' : '3.14',
  );
  return evaluateExpression(s);
}

/** δ = |g|/20 below 20, 1 at or above (so 5 % relative for small answers, ±1 for large ones). */
export function isClose(gold: number, predicted: number): boolean {
  const delta = gold < 20 ? Math.abs(gold / 20) : 1;
  // the reference compares exact sympy numbers; absorb binary floating-point rounding only
  return Math.abs(gold - predicted) <= delta + 1e-9 * Math.max(1, Math.abs(gold));
}

export interface MatchResult {
  correct: boolean;
  /** the narrowed answer text */
  answerText: string;
  candidates: string[];
}

/** Correct iff every gold value is close to at least one numeric candidate in the narrowed response. */
export function matchAnswer(answer: string, response: string): MatchResult {
  const answerText = narrowToAnswer(response);
  const candidates = extractCandidates(normalizeNumbers(answerText));
  if (candidates.length === 0) return { correct: false, answerText, candidates };
  const predicted = candidates.map(valueOf);
  const correct = goldValues(answer).every((g) => {
    const gold = valueOf(g);
    return gold !== undefined && predicted.some((p) => p !== undefined && isClose(gold, p));
  });
  return { correct, answerText, candidates };
}
