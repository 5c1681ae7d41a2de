import type { Tokenizer } from '../tokenizers/tokenizer.ts';
import { StreamingText } from '../tokenizers/streaming-text.ts';

/**
 * Turns a growing list of token ids into text deltas that are safe to send: it cuts the text at
 * the first stop string, and holds back a trailing partial UTF-8 character and any tail that
 * could still become a stop string. Each new token costs work bounded by a few tokens and the
 * longest stop string (see tokenizers/streaming-text.ts), not by the length of the response.
 */
export class TextStream {
  private readonly inner: StreamingText;
  /** tokens of the list already fed */
  private fed = 0;

  /**
   * `prompt`: the tokens before the generated ones. Its last few are decoded along with the new
   * tokens, so the text reads as the prompt's continuation (a SentencePiece tokenizer would
   * otherwise drop the leading space of the first word).
   */
  constructor(tokenizer: Tokenizer, stops: readonly string[], prompt: readonly number[] = []) {
    this.inner = new StreamingText(tokenizer, stops, prompt);
  }

  /** the full text so far (cut at a stop string once one appears) */
  get text(): string {
    return this.inner.peek();
  }

  /** the stop string that ended the text, if one did */
  get stoppedBy(): string | null {
    return this.inner.stoppedBy;
  }

  /** Feeds the tokens generated so far (the list only grows); returns the text that became safe to send. */
  update(tokens: readonly number[]): string {
    const delta = this.inner.pushAll(tokens, this.fed);
    this.fed = tokens.length;
    return delta;
  }

  /** Everything not yet sent (call when the sequence has finished). */
  flush(): string {
    return this.inner.finish();
  }
}
