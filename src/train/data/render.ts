/**
 * Prompt and response as text. Plain strings are used as they are; chat messages go through
 * the tokenizer's chat template: the prompt with the generation prompt appended, the response
 * as what the template adds for the assistant turn(s) after it.
 */
import { inputError } from '../../errors.ts';
import type { Tokenizer } from '../../tokenizers/tokenizer.ts';
import { isChat, type TextOrChat } from './text-fields.ts';

export interface RenderedExample {
  prompt: string;
  response: string;
  /** rendered by a chat template (the template ends the turn; no EOS is appended) */
  chat: boolean;
}

export function renderExample(tokenizer: Tokenizer, prompt: TextOrChat, response: TextOrChat, where: { file: string; line: number; field: string }): RenderedExample {
  if (!isChat(prompt) && !isChat(response)) return { prompt, response, chat: false };
  if (!isChat(response)) throw inputError('a conversational prompt needs the response as a list of assistant messages too', where);
  const promptMessages = isChat(prompt) ? prompt : [{ role: 'user', content: prompt }];
  if (response.some((m) => m.role !== 'assistant')) throw inputError('response messages must have role "assistant"', where);
  const promptText = promptMessages.length ? tokenizer.applyChatTemplate(promptMessages, { addGenerationPrompt: true }) : '';
  const full = tokenizer.applyChatTemplate([...promptMessages, ...response], { addGenerationPrompt: false });
  if (!full.startsWith(promptText)) {
    throw inputError('the chat template renders the conversation with a different prefix than the prompt alone, so the response cannot be separated', where);
  }
  const responseText = full.slice(promptText.length);
  if (responseText.trim() === '') throw inputError('empty response', where);
  return { prompt: promptText, response: responseText, chat: true };
}
