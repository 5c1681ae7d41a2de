import type { ChatMessage, Tokenizer } from '../../tokenizers/tokenizer.ts';
import { missingCapability } from './capabilities.ts';
import type { SyncHttpClient } from './sync-http.ts';

export interface RemoteTokenizerInfo {
  vocabSize: number;
  bosId: number | null;
  eosId: number | null;
  chatTemplate: boolean;
}

/**
 * A remote model's tokenizer, through the server's `/tokenize` and `/detokenize` (vLLM,
 * SGLang, alignkit serve). The Tokenizer interface is synchronous, so each call blocks on
 * a worker thread; answers are memoised.
 */
export class RemoteTokenizer implements Tokenizer {
  readonly vocabSize: number;
  readonly bosId: number | null;
  readonly eosId: number | null;
  readonly padId: number;
  readonly hasChatTemplate: boolean;
  private readonly memo = new Map<string, unknown>();

  constructor(
    private readonly http: SyncHttpClient,
    private readonly root: string,
    private readonly model: string,
    info: RemoteTokenizerInfo,
  ) {
    this.vocabSize = info.vocabSize;
    this.bosId = info.bosId;
    this.eosId = info.eosId;
    this.padId = info.eosId ?? 0;
    this.hasChatTemplate = info.chatTemplate;
  }

  private post<T>(path: string, body: Record<string, unknown>): T {
    const key = path + JSON.stringify(body);
    if (!this.memo.has(key)) {
      if (this.memo.size > 4096) this.memo.clear();
      this.memo.set(key, this.http.postJson(this.root + path, { model: this.model, ...body }));
    }
    return this.memo.get(key) as T;
  }

  encode(text: string, options: { addBos?: boolean } = {}): number[] {
    return [
      ...this.post<{ tokens: number[] }>('/tokenize', { prompt: text, add_special_tokens: options.addBos ?? true })
        .tokens,
    ];
  }

  decode(ids: readonly number[], options: { skipSpecial?: boolean } = {}): string {
    const body: Record<string, unknown> = { tokens: [...ids] };
    if (options.skipSpecial === false) body.skip_special_tokens = false;
    return this.post<{ prompt: string }>('/detokenize', body).prompt;
  }

  applyChatTemplate(messages: readonly ChatMessage[], options: { addGenerationPrompt?: boolean } = {}): string {
    if (!this.hasChatTemplate) {
      throw missingCapability(
        'rendering a chat template',
        '/tokenize with "messages" (vLLM, alignkit serve) or a local --tokenizer',
        this.root,
      );
    }
    const { tokens } = this.post<{ tokens: number[] }>('/tokenize', {
      messages: messages.map((m) => ({ role: m.role, content: m.content })),
      add_generation_prompt: options.addGenerationPrompt ?? true,
    });
    return this.decode(tokens, { skipSpecial: false });
  }
}

/** Stands in when the server has no tokenize routes and no local tokenizer was given. */
export class UnavailableTokenizer implements Tokenizer {
  readonly vocabSize = 0;
  readonly bosId = null;
  readonly eosId = null;
  readonly padId = 0;
  readonly hasChatTemplate = false;

  constructor(private readonly server: string) {}

  private fail(): never {
    throw missingCapability(
      "this remote model's tokenizer",
      '/tokenize and /detokenize (vLLM, SGLang, alignkit serve) or a local tokenizer given with --tokenizer PATH',
      this.server,
    );
  }

  encode(): number[] {
    return this.fail();
  }

  decode(): string {
    return this.fail();
  }

  applyChatTemplate(): string {
    return this.fail();
  }
}
