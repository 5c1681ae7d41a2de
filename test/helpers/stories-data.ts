/**
 * Training data built from data for the real-data checks: TinyStories texts for SFT,
 * story openings with happy vs sad endings for DPO, and HH-RLHF harmless pairs for reward models.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { createRng } from '../../src/util/random.ts';

export const TINYSTORIES = 'data/tinystories-sample/tinystories.txt';
export const HH_HARMLESS = 'data/hh-rlhf-harmless-base/test.jsonl.gz';

export const longTests = process.env.ALIGNKIT_LONG_TESTS === '1';

export function tinyStories(): string[] {
  return readFileSync(TINYSTORIES, 'utf8')
    .split(/\n\s*\n/)
    .map((s) => s.replace(/\s+/g, ' ').trim())
    .filter((s) => s.length > 40);
}

export function writeJsonl(path: string, rows: readonly unknown[]): string {
  writeFileSync(path, rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
  return path;
}

const HAPPY = [
  ' They played together and laughed all day. Everyone was happy.',
  ' She smiled and gave her mom a big hug. They were very happy.',
  ' He was so happy! They had fun and became best friends.',
  ' They shared the toys and had a great day. The end was happy and good.',
  ' Everyone cheered and smiled. It was the best day ever.',
  ' The sun came out and they danced with joy.',
];
const SAD = [
  ' He cried and cried. Nobody came to help him, and he was sad.',
  ' She was very sad and lonely. Her toy was broken forever.',
  ' They lost the ball and felt bad. It was a terrible day.',
  ' The dog was hurt and everyone was angry and sad.',
  ' He fell down and hurt his leg. He cried all night.',
  ' It was a bad day. She was scared and alone.',
];

/** Story openings (the first two sentences) with a happy (chosen) and a sad (rejected) ending. */
export function happySadPairs(
  stories: readonly string[],
  seed: number,
): { prompt: string; chosen: string; rejected: string }[] {
  const rng = createRng(seed);
  return stories.map((s) => {
    const opening = s
      .split(/(?<=[.!?])\s+/)
      .slice(0, 2)
      .join(' ');
    return { prompt: opening, chosen: HAPPY[rng.int(HAPPY.length)], rejected: SAD[rng.int(SAD.length)] };
  });
}

/**
 * HH-RLHF harmless-base pairs (implicit prompt format: chosen and rejected share the
 * conversation), without the few whose one response is a prefix of the other (an empty
 * response once the shared prompt is taken off, which the loader rejects).
 */
export function harmlessPairs(): { chosen: string; rejected: string }[] {
  const rows: { chosen: string; rejected: string }[] = gunzipSync(readFileSync(HH_HARMLESS))
    .toString('utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));
  return rows.filter(
    (r) => !r.chosen.trimEnd().startsWith(r.rejected.trimEnd()) && !r.rejected.trimEnd().startsWith(r.chosen.trimEnd()),
  );
}
