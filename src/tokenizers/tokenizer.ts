/** The tokenizer contract every model and algorithm uses. */
export interface ChatMessage {
  role: 'system' | 'user' | 'assistant' | string;
  content: string;
}

export interface Tokenizer {
  /** Number of token ids (embedding rows the tokenizer may produce). */
  readonly vocabSize: number;
  readonly bosId: number | null;
  readonly eosId: number | null;
  /** Token id used to pad batches (falls back to eos or 0). */
  readonly padId: number;
  /** Encodes text. `addBos` prepends BOS when the tokenizer has one (default: the tokenizer's own convention). */
  encode(text: string, options?: { addBos?: boolean }): number[];
  /** Decodes ids to text. Special tokens are dropped unless `skipSpecial` is false. */
  decode(ids: readonly number[], options?: { skipSpecial?: boolean }): string;
  /** True when `applyChatTemplate` renders a real template (not the plain fallback). */
  readonly hasChatTemplate: boolean;
  /** Renders a conversation to the prompt string the model expects. */
  applyChatTemplate(messages: readonly ChatMessage[], options?: { addGenerationPrompt?: boolean }): string;
}
