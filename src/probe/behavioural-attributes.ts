import type { Attribute, AttributeContext } from './attribute.ts';
import { answerSpan, normalizeText, parseReference, type Answer } from './answer-extraction.ts';
import { tokensCoveringChars } from './token-span.ts';

const REFERENCE_FIELDS = ['reference', 'answer', 'label'];

/** The item's reference answer: the configured field, else the first of reference/answer/label. */
export function referenceOf({ fields, options }: Pick<AttributeContext, 'fields' | 'options'>): Answer | null {
  const field = options.referenceField ?? REFERENCE_FIELDS.find((f) => fields[f] !== undefined && fields[f] !== null);
  return field === undefined ? null : parseReference(fields[field]);
}

/**
 * The model's probability of the answer it gave: the tokens that state the final answer
 * (a number, a letter or a yes/no, of the reference's kind when there is one), their
 * probabilities under the model combined by `options.confidence` (default mean).
 */
export const answerConfidence: Attribute = {
  name: 'confidence',
  task: 'regression',
  description: "the model's probability of the tokens stating its final answer",
  compute: (ctx) => {
    const reference = referenceOf(ctx);
    const span = answerSpan(ctx.response, reference && reference.kind !== 'text' ? reference.kind : 'any');
    if (!span) return null;
    const [first, last] = tokensCoveringChars(ctx.tokenizer, ctx.responseTokens, span.start, span.end);
    const probs = ctx.responseLogprobs.slice(first, last).map(Math.exp);
    if (probs.length === 0 || probs.some((p) => !Number.isFinite(p))) return null;
    switch (ctx.options.confidence ?? 'mean') {
      case 'first':
        return probs[0];
      case 'last':
        return probs[probs.length - 1];
      case 'min':
        return Math.min(...probs);
      default:
        return probs.reduce((a, b) => a + b, 0) / probs.length;
    }
  },
};

/** Whether the response's final answer agrees with the item's reference answer. */
export function isConsistent(response: string, reference: Answer): boolean | null {
  if (reference.kind === 'text') return normalizeText(response).includes(normalizeText(reference.value));
  const given = answerSpan(response, reference.kind)?.value;
  if (!given) return null;
  if (reference.kind === 'number')
    return Math.abs((given.value as number) - reference.value) <= 1e-6 * Math.max(1, Math.abs(reference.value));
  return given.value === reference.value;
}

export const factualConsistency: Attribute = {
  name: 'consistency',
  task: 'classification',
  description: "whether the response's final answer matches the reference answer",
  compute: (ctx) => {
    const reference = referenceOf(ctx);
    if (!reference) return null;
    const consistent = isConsistent(ctx.response, reference);
    return consistent === null ? null : consistent ? 'consistent' : 'inconsistent';
  },
};
