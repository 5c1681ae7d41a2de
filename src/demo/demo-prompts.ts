import { brownSentences } from './brown-corpus.ts';
import { createRng } from '../util/random.ts';

const FICTION = ['fiction', 'romance', 'adventure', 'mystery', 'humor', 'science_fiction'];

/**
 * Story openings for the controlled-sentiment experiment: the first words of Brown fiction
 * sentences, split into prompts for building preference data and held-out test prompts.
 */
export function demoPrompts(trainCount: number, testCount: number, seed: number, words = 5): { train: string[]; test: string[] } {
  const seen = new Set<string>();
  const openings: string[] = [];
  for (const s of brownSentences(FICTION)) {
    const w = s.text.split(' ');
    if (w.length < words + 4 || !/^[A-Z][a-z]/.test(w[0]) || w.slice(0, words).some((x) => /["()]/.test(x))) continue;
    const prompt = w.slice(0, words).join(' ');
    if (!seen.has(prompt)) { seen.add(prompt); openings.push(prompt); }
  }
  const shuffled = createRng(seed).shuffle(openings);
  return { test: shuffled.slice(0, testCount), train: shuffled.slice(testCount, testCount + trainCount) };
}
