import type { ChatMessage } from '../../tokenizers/tokenizer.ts';
import type { JudgeParser } from '../judge.ts';

/**
 * A pairwise preference prompt in the spirit of AlpacaEval's annotator (which reads the
 * first-token log-probs of two output identifiers). Ours asks for a verdict token, so any chat
 * model can judge: `[[a]]` or `[[b]]`.
 */
export const PAIRWISE_SYSTEM =
  'You are a careful, impartial evaluator of AI assistants. You compare two outputs for the same instruction and ' +
  'decide which one a thoughtful human would prefer: the one that follows the instruction more helpfully, accurately ' +
  'and harmlessly. Do not let the order of the outputs or their length by itself decide.';

export function pairwiseMessages(instruction: string, outputA: string, outputB: string): ChatMessage[] {
  return [
    { role: 'system', content: PAIRWISE_SYSTEM },
    {
      role: 'user',
      content:
        `## Instruction\n\n${instruction}\n\n## Output (a)\n\n${outputA}\n\n## Output (b)\n\n${outputB}\n\n` +
        '## Task\n\nWhich output is better? Answer with exactly "[[a]]" or "[[b]]" and nothing else.',
    },
  ];
}

/** "[[a]]" / "[[b]]" (the last one wins), or a bare "a" / "b" / "Output (b)" reply. */
export const parseVerdict: JudgeParser<'a' | 'b'> = (text) => {
  const bracketed = [...text.matchAll(/\[\[\s*\(?([ab])\)?\s*\]\]/gi)].pop();
  if (bracketed) return { value: bracketed[1].toLowerCase() as 'a' | 'b' };
  const bare = /^\s*(?:output\s*)?\(?([ab])\)?\s*\.?\s*$/i.exec(text);
  if (bare) return { value: bare[1].toLowerCase() as 'a' | 'b' };
  return { error: 'no verdict "[[a]]" or "[[b]]" in the judgement' };
};
