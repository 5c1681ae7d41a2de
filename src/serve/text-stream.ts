import type { Tokenizer } from '../tokenizers/tokenizer.ts';
import { StreamingText, pendingStopLength } from '../tokenizers/streaming-text.ts';

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

/**
 * How much of `text` is safe to send: not a trailing partial character (U+FFFD from a partial
 * UTF-8 sequence, or half of a surrogate pair), nor a tail that could still grow into one of the
 * stop strings (the text would then be cut before it).
 */
export function sendableLength(text: string, stops: readonly string[]): number {
  let safe = text.length;
  while (safe > 0 && text.charCodeAt(safe - 1) === 0xfffd) safe--;
  if (safe > 0 && isHighSurrogate(text.charCodeAt(safe - 1))) safe--;
  return Math.min(safe, text.length - pendingStopLength(text, stops));
}

const isHighSurrogate = (code: number) => code >= 0xd800 && code <= 0xdbff;

/**
 * Streams text that a generator reports as final while it grows (a guided model's settled
 * prefix), holding back what `sendableLength` holds back. The final text must extend what was
 * sent; `finish` returns the rest.
 */
export class SettledTextStream {
  private sent = '';

  constructor(private readonly stops: readonly string[]) {}

  /** The delta that became safe to send (may be empty). */
  update(settled: string): string {
    if (!settled.startsWith(this.sent)) return '';
    const safe = sendableLength(settled, this.stops);
    if (safe <= this.sent.length) return '';
    const delta = settled.slice(this.sent.length, safe);
    this.sent += delta;
    return delta;
  }

  /** The rest of the final text; null when it does not begin with what was already sent. */
  finish(text: string): string | null {
    return text.startsWith(this.sent) ? text.slice(this.sent.length) : null;
  }
}
