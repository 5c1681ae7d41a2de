/**
 * An AI SDK prompt (system/user/assistant messages of parts) as the text an alignkit model
 * continues: through the model's chat template ("chat"), or as the messages' text itself
 * ("text", what a base model such as the embedded story models continues). Only text reaches an
 * alignkit model: files, tool calls and tool results are refused as unsupported.
 */
import { UnsupportedFunctionalityError, type LanguageModelV4Prompt } from '@ai-sdk/provider';
import type { ChatMessage, Tokenizer } from '../tokenizers/tokenizer.ts';

/** How messages become the prompt: the chat template, the text itself, or whichever the tokenizer suits. */
export type PromptFormatName = 'auto' | 'chat' | 'text';

/** The prompt's messages with their text, in order. */
export function chatMessages(prompt: LanguageModelV4Prompt): ChatMessage[] {
  return prompt.map((message, i) => {
    if (message.role === 'system') return { role: 'system', content: message.content };
    if (message.role === 'tool')
      throw new UnsupportedFunctionalityError({
        functionality: 'tool results',
        message: `prompt message ${i} is a tool result; alignkit models have no tool calling`,
      });
    const text = message.content.map((part, j) => {
      if (part.type === 'text') return part.text;
      if (part.type === 'reasoning') return ''; // earlier reasoning is not part of what the model continues
      throw new UnsupportedFunctionalityError({
        functionality: `${part.type} parts`,
        message: `prompt message ${i}, part ${j} is a ${part.type} part; only text reaches an alignkit model`,
      });
    });
    return { role: message.role, content: text.join('') };
  });
}

/**
 * The text the model continues. "auto" is "chat" when the tokenizer has a chat template and
 * "text" otherwise; "text" joins the messages' text with newlines (one message: its text as is).
 */
export function promptText(prompt: LanguageModelV4Prompt, tokenizer: Tokenizer, format: PromptFormatName): string {
  const messages = chatMessages(prompt);
  const chat = format === 'chat' || (format === 'auto' && tokenizer.hasChatTemplate);
  return chat
    ? tokenizer.applyChatTemplate(messages, { addGenerationPrompt: true })
    : messages.map((m) => m.content).join('\n');
}
