import { brownSentences } from './brown-corpus.ts';
import { createRng } from '../util/random.ts';
import { inputError } from '../errors.ts';

const TEST_RESERVE = 200;

const FICTION = ['fiction', 'romance', 'adventure', 'mystery', 'humor', 'science_fiction'];

/**
 * Story openings for the controlled-sentiment experiment: the first words of Brown fiction
 * sentences, split into prompts for building preference data and held-out test prompts.
 */
export function demoPrompts(
  trainCount: number,
  testCount: number,
  seed: number,
  words = 5,
): { train: string[]; test: string[] } {
  const seen = new Set<string>();
  const openings: string[] = [];
  for (const s of brownSentences(FICTION)) {
    const w = s.text.split(' ');
    if (w.length < words + 4 || !/^[A-Z][a-z]/.test(w[0]) || w.slice(0, words).some((x) => /["()]/.test(x))) continue;
    const prompt = w.slice(0, words).join(' ');
    if (!seen.has(prompt)) {
      seen.add(prompt);
      openings.push(prompt);
    }
  }
  const shuffled = createRng(seed).shuffle(openings);
  // test prompts come from a fixed reserve, so the training prompts (and the cached tuning) do not depend on how many are tested
  if (testCount > TEST_RESERVE)
    throw inputError(`at most ${TEST_RESERVE} test prompts, got ${testCount}`, { field: 'prompts' });
  return { test: shuffled.slice(0, testCount), train: shuffled.slice(TEST_RESERVE, TEST_RESERVE + trainCount) };
}
