import type { Attribute } from './attribute.ts';

/** Response length in tokens (the stop token not counted); after t tokens, the remaining length. */
export const responseLength: Attribute = {
  name: 'length',
  task: 'regression',
  description: 'response length in tokens',
  compute: ({ responseTokens }) => responseTokens.length,
  atStep: (value, t) => (typeof value === 'number' ? value - t : null),
};

const STEP_MARKER = /\bStep\s*\d+\s*[:.)]/gi;
const FINAL_ANSWER_LINE = /^\s*(?:####|the answer is|answer:)/i;

/**
 * Number of reasoning steps of a worked solution: explicit "Step k:" markers when there are
 * any, otherwise its non-empty lines (not counting a final "#### 18" / "The answer is" line),
 * and for a one-line solution its sentences. `maxSteps` caps the count (the paper uses 8).
 */
export function countReasoningSteps(text: string, maxSteps = Infinity): number {
  const markers = text.match(STEP_MARKER)?.length ?? 0;
  let steps = markers;
  if (steps === 0) {
    const lines = text
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !FINAL_ANSWER_LINE.test(l));
    steps =
      lines.length > 1 ? lines.length : (lines[0]?.split(/(?<=[.!?])\s+(?=\S)/).filter((s) => s.trim()).length ?? 0);
  }
  return Math.min(steps, maxSteps);
}

export const reasoningSteps: Attribute = {
  name: 'steps',
  task: 'regression',
  description: 'number of reasoning steps (Step k: markers, else lines, else sentences)',
  compute: ({ response, options }) => countReasoningSteps(response, options.maxSteps ?? Infinity),
};
