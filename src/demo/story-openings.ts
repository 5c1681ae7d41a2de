/**
 * The prompts of the main job: the first words of TinyStories sentences whose VADER score is 0
 * (so the gold reward measures the continuation, not the prompt). The embedded recipe writes
 * them to embedded/story-openings.txt, one a line, so the package needs no data/ at run time.
 */
import { sentimentReward } from '../decode/rewards.ts';

export const STORY_OPENINGS_FILE = 'story-openings.txt';
const WORDS = 5;

export async function storyOpenings(paragraphs: readonly string[]): Promise<string[]> {
  const seen = new Set<string>();
  for (const sentence of paragraphs.flatMap((p) => p.split(/(?<=[.!?])\s+/))) {
    const w = sentence.trim().split(/\s+/);
    if (w.length < WORDS + 4 || !/^[A-Z][a-z]/.test(w[0]) || w.slice(0, WORDS).some((x) => /["()]/.test(x))) continue;
    seen.add(w.slice(0, WORDS).join(' '));
  }
  const openings = [...seen];
  const scores = await sentimentReward({ lexicon: 'vader' }).score(
    openings.map((o) => ({ prompt: '', response: o, finishReason: 'length' as const })),
  );
  return openings.filter((_, i) => scores[i] === 0);
}
