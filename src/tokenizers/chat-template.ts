/**
 * Chat templates: the Jinja `chat_template` of tokenizer_config.json rendered with
 * @huggingface/jinja, with the variables transformers passes (messages, add_generation_prompt,
 * bos_token, eos_token, and the other special tokens; raise_exception is built into
 * @huggingface/jinja, and what it raises surfaces as an input error with the template's message).
 *
 * Tokenizers without a template get a plain fallback (`hasChatTemplate` false):
 *
 *     System: {content}\n        (for each message, the role capitalized)
 *     User: {content}\n
 *     Assistant: {content}\n
 *     Assistant:                  (with addGenerationPrompt; no trailing space, since
 *                                  tokenizers attach a space to the word that follows)
 */
import { Template } from '@huggingface/jinja';
import { formatError, inputError } from '../errors.ts';
import type { ChatMessage } from './tokenizer.ts';

export interface ChatTemplateVariables {
  bosToken?: string | null;
  eosToken?: string | null;
  /** Further variables for the template (unk_token, pad_token, ...). */
  extra?: Record<string, unknown>;
}

export class ChatTemplate {
  /** The Jinja source, or null for the plain fallback. */
  readonly source: string | null;
  private readonly variables: ChatTemplateVariables;
  private readonly file: string;
  private compiled: Template | null = null;

  /** `file` is named in errors (the tokenizer_config.json the template came from). */
  constructor(source: string | null, variables: ChatTemplateVariables, file: string) {
    this.source = source;
    this.variables = variables;
    this.file = file;
  }

  get isReal(): boolean {
    return this.source !== null;
  }

  apply(messages: readonly ChatMessage[], options: { addGenerationPrompt?: boolean } = {}): string {
    const addGenerationPrompt = options.addGenerationPrompt ?? false;
    if (this.source === null) return renderPlainChat(messages, addGenerationPrompt);
    const where = { file: this.file || undefined, field: 'chat_template' };
    if (!this.compiled) {
      try {
        this.compiled = new Template(this.source);
      } catch (e) {
        throw formatError(`the chat template does not parse: ${(e as Error).message}`, where);
      }
    }
    try {
      return this.compiled.render({
        ...this.variables.extra,
        messages: messages.map((m) => ({ ...m })),
        add_generation_prompt: addGenerationPrompt,
        bos_token: this.variables.bosToken ?? '',
        eos_token: this.variables.eosToken ?? '',
      });
    } catch (e) {
      throw inputError(`the chat template failed on this conversation: ${(e as Error).message}`, where);
    }
  }
}

export function renderPlainChat(messages: readonly ChatMessage[], addGenerationPrompt: boolean): string {
  let text = '';
  for (const m of messages) text += `${capitalize(m.role)}: ${m.content}\n`;
  if (addGenerationPrompt) text += 'Assistant:';
  return text;
}

function capitalize(role: string): string {
  return role.length === 0 ? role : role[0].toUpperCase() + role.slice(1);
}

/**
 * Picks the template from tokenizer_config.json's `chat_template`: a string, or a list of
 * named templates ({name, template}) of which "default" is used.
 */
export function selectChatTemplate(value: unknown, file: string): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) {
    const named = value.filter(
      (t): t is { name: string; template: string } =>
        !!t && typeof t.name === 'string' && typeof t.template === 'string',
    );
    const chosen = named.find((t) => t.name === 'default') ?? named[0];
    if (chosen) return chosen.template;
  }
  throw formatError('expected a string or a list of {name, template} objects', { file, field: 'chat_template' });
}
