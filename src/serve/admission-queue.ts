import { GatewayError } from './errors.ts';

/**
 * Admits at most `maxActive` requests at once; up to `maxWaiting` more wait in arrival order;
 * beyond that a request is refused with 429 at once. A waiting request whose signal aborts
 * (client gone, timeout) leaves the line.
 */
export class AdmissionQueue {
  private active = 0;
  private readonly waiting: { admit: () => void; signal?: AbortSignal; onAbort: () => void }[] = [];

  constructor(
    readonly maxActive: number,
    readonly maxWaiting: number,
  ) {}

  get load(): { active: number; waiting: number } {
    return { active: this.active, waiting: this.waiting.length };
  }

  /** Resolves with a release function once admitted. */
  async acquire(signal?: AbortSignal): Promise<() => void> {
    signal?.throwIfAborted();
    if (this.active < this.maxActive) {
      this.active++;
      return this.releaser();
    }
    if (this.waiting.length >= this.maxWaiting) {
      throw new GatewayError(
        429,
        `the server is at capacity (${this.maxActive} requests running, ${this.maxWaiting} waiting); retry later`,
        'rate_limit_error',
        null,
        'queue_full',
        { 'retry-after': '1' },
      );
    }
    await new Promise<void>((resolve, reject) => {
      const entry = {
        admit: () => {
          signal?.removeEventListener('abort', entry.onAbort);
          resolve();
        },
        signal,
        onAbort: () => {
          const i = this.waiting.indexOf(entry);
          if (i >= 0) this.waiting.splice(i, 1);
          reject(signal!.reason);
        },
      };
      this.waiting.push(entry);
      signal?.addEventListener('abort', entry.onAbort, { once: true });
    });
    return this.releaser();
  }

  private releaser(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiting.shift();
      if (next)
        next.admit(); // the slot passes to the next request
      else this.active--;
    };
  }
}
