/**
 * The text of a growing token sequence, kept incrementally so that each new token costs work
 * bounded by a few tokens and by the longest stop string, not by the length of the text.
 *
 * Detokenization decodes a short window: the tokens since the text was last stable, plus the
 * ones before them as context (vLLM's incremental detokenizer). A token whose text ends in a
 * partial UTF-8 character (SentencePiece byte-fallback pieces, byte-level BPE) waits for the
 * tokens that complete it. Decoding the window together with its context keeps what a tokenizer
 * does at the start of a text (SentencePiece drops the first piece's leading space) from
 * happening in the middle. Stop strings are searched only in the new text and the stop length
 * before it; text that could still grow into a stop string is held back from the stream.
 *
 * Invariant (test/tokenizers-streaming-text.test.ts): the pushed deltas plus finish() equal
 * decode(context + tokens) minus decode(context), cut before the first stop string.
 */
import type { Tokenizer } from './tokenizer.ts';

/** Prompt tokens decoded along with the first generated ones. */
const CONTEXT_TOKENS = 8;
/** A window that stays incomplete this long (invalid UTF-8) is committed as it decodes. */
const MAX_PENDING_TOKENS = 16;

export class StreamingText {
  /** context tokens, then the generated ones; only those from `windowStart` on are decoded again */
  private tokens: number[];
  /** start of the decoded window; tokens before it are final */
  private windowStart: number;
  /** tokens before this one are in `stable` */
  private stableEnd: number;
  /** decode(tokens[windowStart, stableEnd)): the part of the window's text already in `stable` */
  private windowPrefix: string;
  /** the final text so far (cut at the stop string once one appears) */
  private stable = '';
  /** characters of `stable` already returned */
  private sent = 0;
  /** `stable` was searched for stop strings up to here */
  private searched = 0;
  private readonly longestStop: number;
  /** the stop string that ended the text, if one did */
  stoppedBy: string | null = null;

  /**
   * `context`: the tokens before the generated ones (the prompt); its last few are decoded along
   * with the first generated tokens, so the text reads as their continuation.
   */
  constructor(
    private readonly tokenizer: Tokenizer,
    private readonly stops: readonly string[] = [],
    context: readonly number[] = [],
  ) {
    this.tokens = context.slice(-CONTEXT_TOKENS);
    this.windowStart = 0;
    this.stableEnd = this.tokens.length;
    this.windowPrefix = this.tokens.length ? tokenizer.decode(this.tokens) : '';
    this.longestStop = Math.max(0, ...stops.map((s) => s.length));
  }

  /** True once a stop string has appeared: later tokens are ignored. */
  get stopped(): boolean {
    return this.stoppedBy !== null;
  }

  /** The final text so far (without a trailing partial character; cut at a stop string). */
  get text(): string {
    return this.stable;
  }

  /** The text so far including what is still pending (a partial character decodes as U+FFFD). */
  peek(): string {
    return this.stopped ? this.stable : this.stable + this.pending();
  }

  /** Adds one token; returns the text that became safe to send. */
  push(token: number): string {
    if (this.stopped) return '';
    this.tokens.push(token);
    const pending = this.pending();
    const incomplete = pending.length === 0 || pending.endsWith('\uFFFD');
    if (!incomplete || this.tokens.length - this.stableEnd >= MAX_PENDING_TOKENS) this.commit(pending);
    return this.take(false);
  }

  /** Feeds every token of `tokens` after the first `from`; returns the text that became safe to send. */
  pushAll(tokens: readonly number[], from = 0): string {
    let delta = '';
    for (let i = from; i < tokens.length && !this.stopped; i++) delta += this.push(tokens[i]);
    return delta;
  }

  /** Everything not yet sent, pending text included (call when the sequence has finished). */
  finish(): string {
    if (!this.stopped) this.commit(this.pending());
    return this.take(true);
  }

  /** An independent copy (beam search reorders rows). */
  clone(): StreamingText {
    const copy = Object.create(StreamingText.prototype) as StreamingText;
    Object.assign(copy, this);
    copy.tokens = this.tokens.slice();
    return copy;
  }

  /** Text of the tokens after `stableEnd`, decoded with the window's context. */
  private pending(): string {
    if (this.stableEnd === this.tokens.length) return '';
    return this.tokenizer.decode(this.tokens.slice(this.windowStart)).slice(this.windowPrefix.length);
  }

  private commit(pending: string): void {
    this.stable += pending;
    const end = this.tokens.length;
    this.windowStart = this.stableEnd;
    this.stableEnd = end;
    this.windowPrefix = this.tokenizer.decode(this.tokens.slice(this.windowStart, end));
    this.searchStops();
  }

  /** Looks for stop strings in the new text and the characters before it that could start one. */
  private searchStops(): void {
    if (!this.longestStop) return;
    const from = Math.max(0, this.searched - this.longestStop + 1);
    let cut = -1;
    for (const stop of this.stops) {
      if (!stop) continue;
      const at = this.stable.indexOf(stop, from);
      if (at >= 0 && (cut < 0 || at < cut)) {
        cut = at;
        this.stoppedBy = stop;
      }
    }
    if (cut >= 0) this.stable = this.stable.slice(0, cut);
    this.searched = this.stable.length;
  }

  /** The unsent stable text, holding back a tail that could still become a stop string. */
  private take(all: boolean): string {
    const end = all || this.stopped ? this.stable.length : this.stable.length - this.heldForStops();
    if (end <= this.sent) return '';
    const delta = this.stable.slice(this.sent, end);
    this.sent = end;
    return delta;
  }

  private heldForStops(): number {
    return pendingStopLength(this.stable, this.stops);
  }
}

/** Length of the longest suffix of `text` that is a proper prefix of a stop string (it may still become one). */
export function pendingStopLength(text: string, stops: readonly string[]): number {
  let hold = 0;
  for (const stop of stops)
    for (let len = Math.min(stop.length - 1, text.length); len > hold; len--)
      if (text.endsWith(stop.slice(0, len))) {
        hold = len;
        break;
      }
  return hold;
}
