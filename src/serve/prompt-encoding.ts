import { encodeWithBos } from '../lm/prompt-format.ts';
import type { ChatMessage } from '../tokenizers/tokenizer.ts';
import { badRequest } from './errors.ts';
import type { ServedModel } from './served-model.ts';

/**
 * Refuses text that cannot fit the model's context by its length alone, before it is tokenized:
 * tokenizing megabytes would hold the event loop (every client waits) for a prompt that is
 * refused anyway.
 */
export function checkPromptChars(served: ServedModel, chars: number, param: string): void {
  if (chars > served.maxPromptChars)
    throw badRequest(
      `the prompt has ${chars} characters; the model's context of ${served.model.capabilities.maxContext} tokens cannot hold more than ${served.maxPromptChars}`,
      param,
      'context_length_exceeded',
    );
}

/** Lets the server read other requests and answer /health before a tokenization (one per prompt). */
const yieldToEventLoop = () => new Promise((resolve) => setImmediate(resolve));

/** A prompt string as token ids with the tokenizer's BOS, its length checked first. */
export async function encodePrompt(served: ServedModel, text: string, param: string): Promise<number[]> {
  checkPromptChars(served, text.length, param);
  await yieldToEventLoop();
  return served.model.tokenizer.encode(text, { addBos: true });
}

/** The prompt ids a chat renders to: the model's chat template (or the plain fallback), with one BOS. */
export async function encodeChat(
  served: ServedModel,
  messages: readonly ChatMessage[],
  param = 'messages',
): Promise<number[]> {
  checkPromptChars(
    served,
    messages.reduce((sum, m) => sum + m.content.length, 0),
    param,
  );
  await yieldToEventLoop();
  return chatPromptIds(served, messages);
}

export function chatPromptIds(served: ServedModel, messages: readonly ChatMessage[]): number[] {
  const { tokenizer } = served.model;
  return encodeWithBos(tokenizer, tokenizer.applyChatTemplate(messages, { addGenerationPrompt: true }));
}
