import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createRng } from '../util/random.ts';
import { formatError, inputError } from '../errors.ts';
import { STORY_OPENINGS_FILE } from './story-openings.ts';

/**
 * One draw of the main job's prompts: the embedded story openings shuffled by `seed`, the first
 * `testCount` held out for evaluation, the next `trainCount` for building preference data.
 * Different seeds give independent draws of both.
 */
export function demoPrompts(
  embeddedDir: string,
  trainCount: number,
  testCount: number,
  seed: number,
): { train: string[]; test: string[] } {
  const file = join(embeddedDir, STORY_OPENINGS_FILE);
  let openings: string[];
  try {
    openings = readFileSync(file, 'utf8').split('\n').filter(Boolean);
  } catch {
    throw formatError('cannot read the story openings (one prompt a line; `npm run embedded:train` writes them)', {
      file,
    });
  }
  if (testCount + trainCount > openings.length)
    throw inputError(
      `${testCount} test + ${trainCount} training prompts asked, but ${file} holds ${openings.length} story openings`,
      { field: 'prompts' },
    );
  const shuffled = createRng(seed).shuffle(openings);
  return { test: shuffled.slice(0, testCount), train: shuffled.slice(testCount, testCount + trainCount) };
}
