import type { Tokenizer } from '../tokenizers/tokenizer.ts';

/** prompt tokens decoded along with the generated ones */
const CONTEXT_TOKENS = 8;

/** The longest suffix of `text` that could still grow into one of the stop strings. */
function pendingStopPrefix(text: string, stops: readonly string[]): number {
  let hold = 0;
  for (const stop of stops) {
    for (let len = Math.min(stop.length - 1, text.length); len > hold; len--) {
      if (text.endsWith(stop.slice(0, len))) {
        hold = len;
        break;
      }
    }
  }
  return hold;
}

/**
 * Turns a growing list of token ids into text deltas that are safe to send: it cuts the text at
 * the first stop string, and holds back a trailing partial UTF-8 character (U+FFFD) and any
 * tail that could still become a stop string.
 */
export class TextStream {
  private emitted = 0;
  /** the full text so far (cut at a stop string once one appears) */
  text = '';
  /** the stop string that ended the text, if one did */
  stoppedBy: string | null = null;

  private readonly context: readonly number[];
  private readonly contextText: string;

  /**
   * `prompt`: the tokens before the generated ones. Its last few are decoded along with the new
   * tokens, so the text reads as the prompt's continuation (a SentencePiece tokenizer would
   * otherwise drop the leading space of the first word).
   */
  constructor(
    private readonly tokenizer: Tokenizer,
    private readonly stops: readonly string[],
    prompt: readonly number[] = [],
  ) {
    this.context = prompt.slice(-CONTEXT_TOKENS);
    this.contextText = this.context.length ? tokenizer.decode(this.context) : '';
  }

  private decode(tokens: readonly number[]): string {
    if (!this.context.length) return this.tokenizer.decode(tokens);
    const joined = this.tokenizer.decode([...this.context, ...tokens]);
    return joined.startsWith(this.contextText) ? joined.slice(this.contextText.length) : this.tokenizer.decode(tokens);
  }

  /** Feeds the tokens generated so far; returns the text that became safe to send. */
  update(tokens: readonly number[]): string {
    const full = this.decode(tokens);
    let cut = -1;
    for (const stop of this.stops) {
      const at = full.indexOf(stop);
      if (at >= 0 && (cut < 0 || at < cut)) {
        cut = at;
        this.stoppedBy = stop;
      }
    }
    if (cut >= 0) {
      this.text = full.slice(0, cut);
      return this.flush();
    }
    this.text = full;
    let safe = full.length;
    while (safe > this.emitted && full.charCodeAt(safe - 1) === 0xfffd) safe--;
    safe = Math.min(safe, full.length - pendingStopPrefix(full, this.stops));
    if (safe <= this.emitted) return '';
    const delta = full.slice(this.emitted, safe);
    this.emitted = safe;
    return delta;
  }

  /** Everything not yet sent (call when the sequence has finished). */
  flush(): string {
    const delta = this.text.slice(this.emitted);
    this.emitted = this.text.length;
    return delta;
  }
}
