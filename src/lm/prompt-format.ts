import type { Tokenizer } from '../tokenizers/tokenizer.ts';
import { inputError } from '../errors.ts';

/**
 * How a model sees a raw prompt: a template containing "{prompt}", "chat" (the model's own chat
 * template, one user turn plus the generation prompt), or a function. Each model of a method may
 * have its own (ED's base and aligned models, W2S's large model vs its small scorers).
 */
export type PromptFormat = string | ((rawPrompt: string, tokenizer: Tokenizer) => string);

export function renderPrompt(format: PromptFormat | undefined, rawPrompt: string, tokenizer: Tokenizer): string {
  if (format === undefined || format === '{prompt}') return rawPrompt;
  if (typeof format === 'function') return format(rawPrompt, tokenizer);
  if (format === 'chat') return chatPrompt(tokenizer, rawPrompt);
  if (!format.includes('{prompt}'))
    throw inputError(`a prompt template must contain "{prompt}" (or be "chat"), got ${JSON.stringify(format)}`, {
      field: 'template',
    });
  return format.split('{prompt}').join(rawPrompt);
}

/** Encodes text with exactly one BOS when the tokenizer has one (a template may already carry it). */
export function encodeWithBos(tokenizer: Tokenizer, text: string): number[] {
  const ids = tokenizer.encode(text, { addBos: false });
  if (tokenizer.bosId !== null && ids[0] !== tokenizer.bosId) ids.unshift(tokenizer.bosId);
  return ids;
}

export function commonPrefixLength(a: readonly number[], b: readonly number[]): number {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a[i] === b[i]) i++;
  return i;
}

/** One user turn in the model's chat template, ready for the assistant's answer. */
export function chatPrompt(tokenizer: Tokenizer, userMessage: string): string {
  if (!tokenizer.hasChatTemplate)
    throw inputError('prompt format "chat" needs a tokenizer with a chat template', { field: 'template' });
  return tokenizer.applyChatTemplate([{ role: 'user', content: userMessage }], { addGenerationPrompt: true });
}
