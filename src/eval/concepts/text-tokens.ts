/**
 * Text normalization and tokenization shared by the concept classifier and duplicate detection.
 * Words are runs of letters/digits; each CJK character is its own token (Chinese has no spaces).
 */

const CJK = /[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]/;
// CJK characters, numbers, words, and the symbols that carry meaning in math problems
const TOKEN_RE = /[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]|\d+(?:\.\d+)?|[\p{L}\p{N}]+|[%$€£¥/+×÷=<>^√π]/gu;

/** NFKC (full-width → ASCII), lower case, thousands commas removed, whitespace collapsed. */
export function normalizeText(text: string): string {
  return text
    .normalize('NFKC')
    .toLowerCase()
    .replace(/(?<=\d),(?=\d{3}\b)/g, '')
    .replace(/\s+/g, ' ')
    .trim();
}

/** Word tokens of normalized text; numbers are kept as they are (they matter for duplicates). */
export function wordTokens(text: string): string[] {
  return normalizeText(text).match(TOKEN_RE) ?? [];
}

export const isCjk = (token: string) => CJK.test(token);

/** The same tokens with every number replaced by one placeholder (numbers say little about a concept). */
export function conceptTokens(text: string): string[] {
  return wordTokens(text).map((t) => (/^\d/.test(t) ? '<num>' : t));
}

/** Contiguous n-grams of a token list, joined by a space. */
export function ngrams(tokens: readonly string[], n: number): string[] {
  const out: string[] = [];
  for (let i = 0; i + n <= tokens.length; i++) out.push(tokens.slice(i, i + n).join(' '));
  return out;
}
