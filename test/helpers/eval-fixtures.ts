/**
 * Test-only helpers for the eval tests: a tiny, deterministic LanguageModel whose replies are a
 * function of the prompt (used as evaluated model and as judge while no real model backend is
 * loadable by reference), and temporary folders.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AlignkitError } from '../../src/errors.ts';
import {
  emptyUsage,
  type Capabilities,
  type LanguageModel,
  type Sample,
  type SampleRequest,
} from '../../src/lm/language-model.ts';
import type { ChatMessage, Tokenizer } from '../../src/tokenizers/tokenizer.ts';

export class CharTokenizer implements Tokenizer {
  readonly vocabSize = 65536;
  readonly bosId = null;
  readonly eosId = null;
  readonly padId = 0;
  readonly hasChatTemplate = true;
  encode(text: string): number[] {
    return [...text].map((c) => c.codePointAt(0)! % 65536);
  }
  decode(ids: readonly number[]): string {
    return String.fromCodePoint(...ids);
  }
  applyChatTemplate(messages: readonly ChatMessage[], options: { addGenerationPrompt?: boolean } = {}): string {
    return (
      messages.map((m) => `<|${m.role}|>\n${m.content}\n`).join('') +
      (options.addGenerationPrompt ? '<|assistant|>\n' : '')
    );
  }
}

export interface ScriptedOptions {
  /** yield to the event loop before answering, so concurrent calls overlap */
  async?: boolean;
  /** throw a backend error on this call number (1-based) and all later ones */
  failFromCall?: number;
}

/** A LanguageModel whose reply to a prompt is `reply(prompt, request)`; counts calls and peak concurrency. */
export class ScriptedModel implements LanguageModel {
  readonly tokenizer = new CharTokenizer();
  readonly capabilities: Capabilities = {
    fullLogits: false,
    topLogprobs: 0,
    scoring: false,
    hiddenStates: false,
    tokenIds: false,
    maxContext: 1 << 20,
  };
  readonly usage = emptyUsage();
  readonly eosIds: readonly number[] = [];
  calls = 0;
  inFlight = 0;
  peakInFlight = 0;
  prompts: string[] = [];
  constructor(
    readonly id: string,
    private readonly reply: (prompt: string, req: SampleRequest) => string,
    private readonly options: ScriptedOptions = {},
  ) {}

  async sample(req: SampleRequest): Promise<Sample[]> {
    this.calls++;
    const call = this.calls;
    this.inFlight++;
    this.peakInFlight = Math.max(this.peakInFlight, this.inFlight);
    try {
      if (this.options.async) await new Promise((r) => setTimeout(r, 2));
      if (this.options.failFromCall !== undefined && call >= this.options.failFromCall)
        throw new AlignkitError('backend', `${this.id}: server unavailable (injected)`);
      const prompt = typeof req.prompt === 'string' ? req.prompt : this.tokenizer.decode(req.prompt);
      this.prompts.push(prompt);
      const text = this.reply(prompt, req);
      return [{ text, tokens: this.tokenizer.encode(text), finishReason: 'eos' }];
    } finally {
      this.inFlight--;
    }
  }
  async score(): Promise<never> {
    throw new AlignkitError('capability', 'scripted model cannot score');
  }
  async open(): Promise<never> {
    throw new AlignkitError('capability', 'scripted model has no decode state');
  }
  async dispose(): Promise<void> {}
}

export function tempDir(t: { after: (fn: () => void) => void }, prefix = 'alignkit-eval-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export const SHARED = (...parts: string[]) => join(import.meta.dirname, '..', '..', 'data', ...parts);
