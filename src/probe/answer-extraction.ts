/**
 * Finding the final answer in a response, with its character span (so the tokens that state it
 * can be found): a number (GSM8K's "#### 18", "the answer is 18", else the last number), a
 * multiple-choice letter, or a yes/no stance.
 */
export interface AnswerSpan<T> {
  value: T;
  start: number;
  end: number;
}

export type Answer =
  | { kind: 'number'; value: number }
  | { kind: 'choice'; value: string }
  | { kind: 'stance'; value: boolean }
  | { kind: 'text'; value: string };

const NUMBER = /-?\d[\d,]*(?:\.\d+)?/g;

function lastMatch(text: string, pattern: RegExp, group = 0): AnswerSpan<string> | null {
  let found: AnswerSpan<string> | null = null;
  for (const m of text.matchAll(pattern)) {
    const g = m[group];
    if (g === undefined) continue;
    const start = m.index! + m[0].indexOf(g);
    found = { value: g, start, end: start + g.length };
  }
  return found;
}

const parseNumber = (s: string) => Number(s.replace(/,/g, ''));

/** The final numeric answer: after the last "####", else after "answer is"/"Answer:", else the last number. */
export function finalNumber(text: string): AnswerSpan<number> | null {
  const marked =
    lastMatch(text, /####\s*\$?\s*(-?\d[\d,]*(?:\.\d+)?)/g, 1) ??
    lastMatch(text, /answer\s*(?:is|:|=)\s*\$?\s*(-?\d[\d,]*(?:\.\d+)?)/gi, 1);
  const span = marked ?? lastMatch(text, NUMBER);
  if (!span) return null;
  const value = parseNumber(span.value);
  return Number.isFinite(value) ? { ...span, value } : null;
}

/**
 * The chosen option A–E: the last "answer is (C)"/"Answer: C", else a lone letter ending the
 * response, else the last "(C)".
 */
export function choiceLetter(text: string): AnswerSpan<string> | null {
  return (
    lastMatch(text, /[Aa]nswer\s*(?:is|:)?\s*(?:[Oo]ption\s*)?\(?([A-E])\)?(?![A-Za-z])/g, 1) ??
    lastMatch(text, /(?:^|[\s(])([A-E])[.)]?\s*$/g, 1) ??
    lastMatch(text, /\(([A-E])\)/g, 1)
  );
}

const POSITIVE = ['yes', 'true', 'agree', 'correct'];
const NEGATIVE = ['no', 'false', 'disagree', 'incorrect', 'not true'];

/** The last yes/true/agree vs no/false/disagree word in the text. */
export function stance(text: string): AnswerSpan<boolean> | null {
  const span = lastMatch(text, new RegExp(`\\b(${[...NEGATIVE, ...POSITIVE].join('|')})\\b`, 'gi'), 1);
  return span && { ...span, value: POSITIVE.includes(span.value.toLowerCase()) };
}

/** Interprets a reference answer from a data file. */
export function parseReference(reference: unknown): Answer | null {
  if (typeof reference === 'boolean') return { kind: 'stance', value: reference };
  if (typeof reference === 'number') return Number.isFinite(reference) ? { kind: 'number', value: reference } : null;
  if (typeof reference !== 'string' || !reference.trim()) return null;
  const text = reference.trim();
  if (/^\(?[A-E]\)?$/i.test(text)) return { kind: 'choice', value: text.replace(/[()]/g, '').toUpperCase() };
  const lower = text.toLowerCase();
  if (POSITIVE.includes(lower)) return { kind: 'stance', value: true };
  if (NEGATIVE.includes(lower)) return { kind: 'stance', value: false };
  if (/####/.test(text) || /^-?\$?\d[\d,]*(?:\.\d+)?$/.test(text)) {
    const n = finalNumber(text.replace(/\$/g, ''));
    if (n) return { kind: 'number', value: n.value };
  }
  return { kind: 'text', value: text };
}

/** The span of the response's answer of the same kind as `reference` (or any number/letter when none). */
export function answerSpan(response: string, kind: Answer['kind'] | 'any'): AnswerSpan<Answer> | null {
  const wrap = <K extends Answer['kind']>(k: K, s: AnswerSpan<any> | null) =>
    s && { ...s, value: { kind: k, value: s.value } as Answer };
  switch (kind) {
    case 'number':
      return wrap('number', finalNumber(response));
    case 'choice':
      return wrap('choice', choiceLetter(response));
    case 'stance':
      return wrap('stance', stance(response));
    case 'text':
      return null;
    default:
      return wrap('number', finalNumber(response)) ?? wrap('choice', choiceLetter(response));
  }
}

export function normalizeText(s: string): string {
  return s
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim();
}
