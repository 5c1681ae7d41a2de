import type { Attribute } from './attribute.ts';
import { choiceLetter } from './answer-extraction.ts';

/** Common TinyStories character names, used by `character` when no --names are given. */
export const defaultCharacterNames = [
  'Lily',
  'Tim',
  'Tom',
  'Ben',
  'Sue',
  'Max',
  'Sam',
  'Mia',
  'Anna',
  'Lucy',
  'Jack',
  'Bob',
] as const;

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * Which of the given names the response introduces first. Names the prompt already mentions
 * are skipped (otherwise the answer could be read off the prompt); null when none appears.
 */
export function firstCharacter(prompt: string, response: string, names: readonly string[]): string | null {
  let best: string | null = null,
    bestAt = Infinity;
  for (const name of names) {
    const pattern = new RegExp(`\\b${escapeRegExp(name)}\\b`);
    if (pattern.test(prompt)) continue;
    const at = response.search(pattern);
    if (at >= 0 && at < bestAt) {
      bestAt = at;
      best = name;
    }
  }
  return best;
}

export const characterChoice: Attribute = {
  name: 'character',
  task: 'classification',
  description: 'which of the candidate names the story introduces first',
  compute: ({ prompt, response, options }) =>
    firstCharacter(prompt, response, options.names?.length ? options.names : defaultCharacterNames),
};

export const multipleChoiceAnswer: Attribute = {
  name: 'choice',
  task: 'classification',
  description: 'the multiple-choice letter (A–E) the response ends with',
  compute: ({ response }) => choiceLetter(response)?.value ?? null,
};
