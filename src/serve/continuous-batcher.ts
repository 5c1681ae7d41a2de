import { type DecodeState, type FinishReason, type LanguageModel, requireDecoding } from '../lm/language-model.ts';
import { sampleToken, type SamplingParams } from '../lm/sampling.ts';
import { createRng, type Rng } from '../util/random.ts';
import { TextStream } from './text-stream.ts';
import { topTokens, type TokenLogprob } from './top-tokens.ts';

export interface GenerationRequest {
  prompt: readonly number[];
  /** continuations of the prompt */
  n: number;
  /** already clamped to the model's context */
  maxNewTokens: number;
  sampling: SamplingParams;
  seed?: number;
  stop: readonly string[];
  /** top alternatives reported per generated token (0 = none) */
  topLogprobs: number;
  signal?: AbortSignal;
  /** called for every generated token, in order per choice */
  onToken?: (event: TokenEvent) => void;
}

export interface TokenEvent {
  choice: number;
  token: number;
  logprob: number;
  top: TokenLogprob[];
  /** text that became safe to send with this token (may be empty) */
  delta: string;
}

export interface ChoiceResult {
  text: string;
  tokens: number[];
  /** log-prob (temperature 1) of each token in `tokens` */
  logprobs: number[];
  /** per token, the top alternatives asked for */
  top: TokenLogprob[][];
  finishReason: FinishReason;
  /** the stop string that ended the text */
  stopString: string | null;
  /** text not yet delivered through onToken (held back until the end) */
  tail: string;
}

/**
 * DecodeState whose rows change in place, when the backend offers it (see the batcher's notes):
 * `absorb` adds another state's rows after its own, `retain` keeps only some rows (ascending).
 */
interface JoinableDecodeState extends DecodeState {
  absorb(other: DecodeState): void;
  retain(rows: readonly number[]): void;
}

const isJoinable = (state: DecodeState): state is JoinableDecodeState =>
  typeof (state as Partial<JoinableDecodeState>).absorb === 'function' &&
  typeof (state as Partial<JoinableDecodeState>).retain === 'function';

interface Job {
  req: GenerationRequest;
  rng: Rng;
  seqs: Sequence[];
  unfinished: number;
  waitedSteps: number;
  resolve: (results: ChoiceResult[]) => void;
  reject: (error: unknown) => void;
}

interface Sequence {
  job: Job;
  choice: number;
  budget: number;
  tokens: number[];
  logprobs: number[];
  top: TokenLogprob[][];
  stream: TextStream;
  finish: FinishReason | null;
}

export interface BatcherStats {
  steps: number;
  /** sequences × steps: tokens decoded */
  decodedTokens: number;
  /** times running sequences were re-prefilled to let new ones join (a state that cannot absorb rows) */
  rebuilds: number;
  maxBatch: number;
}

/**
 * Continuous batching of one model with full next-token distributions: the decode steps of all
 * running requests run as one multi-sequence DecodeState. Each step samples a token for every
 * sequence (with its request's own seeded RNG, consumed in the same order as the model's own
 * `sample`), drops finished sequences with fork(), appends the rest. Requests join between steps.
 *
 * Joining needs the running state and the newcomers' state in one batch. With a state that
 * changes rows in place (`absorb`, `retain`), newcomers are opened together (one prefill) and
 * absorbed, and finished rows are dropped, each copying only the rows that come or move. Without it, the running sequences are re-opened
 * together with the newcomers (a prefill of everything); to keep that rare, newcomers wait until
 * they are numerous relative to the running batch or have waited a few steps.
 */
export class ContinuousBatcher {
  private state: DecodeState | null = null;
  private active: Sequence[] = [];
  private waiting: Job[] = [];
  private running = false;
  readonly stats: BatcherStats = { steps: 0, decodedTokens: 0, rebuilds: 0, maxBatch: 0 };

  constructor(
    private readonly model: LanguageModel,
    private readonly eosIds: ReadonlySet<number>,
    private readonly maxBatchSequences = 64,
    private readonly maxWaitSteps = 4,
  ) {}

  get load(): { activeSequences: number; waitingRequests: number } {
    return { activeSequences: this.active.length, waitingRequests: this.waiting.length };
  }

  generate(req: GenerationRequest): Promise<ChoiceResult[]> {
    return new Promise((resolve, reject) => {
      if (req.signal?.aborted) return reject(req.signal.reason);
      const job: Job = {
        req,
        rng: createRng(req.seed ?? Math.floor(Math.random() * 2 ** 31)),
        seqs: [],
        unfinished: req.n,
        waitedSteps: 0,
        resolve,
        reject,
      };
      job.seqs = Array.from({ length: req.n }, (_, choice) => ({
        job,
        choice,
        budget: req.maxNewTokens,
        tokens: [],
        logprobs: [],
        top: [],
        stream: new TextStream(this.model.tokenizer, req.stop, req.prompt),
        finish: null,
      }));
      this.waiting.push(job);
      if (!this.running) void this.loop();
    });
  }

  private async loop(): Promise<void> {
    this.running = true;
    try {
      while (this.active.length || this.waiting.length) {
        // The model may compute on this thread: let the server read requests, see disconnects
        // and flush streamed tokens between steps.
        await new Promise((resolve) => setImmediate(resolve));
        try {
          this.dropCancelled();
          await this.admit();
          if (this.active.length) await this.step();
        } catch (error) {
          this.failAll(error);
        }
      }
    } finally {
      this.running = false;
    }
  }

  private dropCancelled(): void {
    this.waiting = this.waiting.filter((job) => {
      if (!job.req.signal?.aborted) return true;
      job.reject(job.req.signal.reason);
      return false;
    });
    const cancelled = new Set(this.active.filter((s) => s.job.req.signal?.aborted).map((s) => s.job));
    if (!cancelled.size) return;
    for (const job of cancelled) job.reject(job.req.signal!.reason);
    this.keepRows(this.active.flatMap((s, row) => (cancelled.has(s.job) ? [] : [row])));
  }

  private keepRows(rows: number[]): void {
    if (rows.length === this.active.length) return;
    const kept = rows.map((row) => this.active[row]);
    const old = this.state!;
    if (kept.length && isJoinable(old)) old.retain(rows);
    else {
      this.state = kept.length ? old.fork(rows) : null;
      old.close();
    }
    this.active = kept;
  }

  private shouldAdmit(): boolean {
    if (!this.waiting.length) return false;
    if (!this.active.length || (this.state && isJoinable(this.state))) return true;
    const waitingSeqs = this.waiting.reduce((a, j) => a + j.req.n, 0);
    return waitingSeqs * 2 >= this.active.length || this.waiting[0].waitedSteps >= this.maxWaitSteps;
  }

  private async admit(): Promise<void> {
    if (!this.shouldAdmit()) {
      for (const job of this.waiting) job.waitedSteps++;
      return;
    }
    const joining: Job[] = [];
    let room = this.maxBatchSequences - this.active.length;
    while (this.waiting.length && (this.waiting[0].req.n <= room || (!this.active.length && !joining.length))) {
      const job = this.waiting.shift()!;
      joining.push(job);
      room -= job.req.n;
    }
    if (!joining.length) return;
    for (const job of this.waiting) job.waitedSteps++;
    const newSeqs = joining.flatMap((job) => job.seqs);
    // one row per request, forked into its n choices: the prompt is prefilled once
    const rowOf = joining.flatMap((job, j) => job.seqs.map(() => j));
    try {
      if (this.state && isJoinable(this.state)) {
        const opened = await requireDecoding(this.model, 'continuous batching')(joining.map((job) => job.req.prompt));
        // one row per choice; a request of one choice already has its row
        const expanded = rowOf.length === joining.length ? opened : opened.fork(rowOf);
        if (expanded !== opened) opened.close();
        this.state.absorb(expanded);
        expanded.close();
      } else {
        const running = this.active.map((s) => [...s.job.req.prompt, ...s.tokens]);
        const opened = await requireDecoding(
          this.model,
          'continuous batching',
        )([...running, ...joining.map((job) => job.req.prompt)]);
        const rows = [...running.map((_, i) => i), ...rowOf.map((j) => running.length + j)];
        const expanded = opened.fork(rows);
        opened.close();
        this.state?.close();
        if (running.length) this.stats.rebuilds++;
        this.state = expanded;
      }
    } catch (error) {
      for (const job of joining) job.reject(error);
      return;
    }
    this.active.push(...newSeqs);
  }

  private async step(): Promise<void> {
    const state = this.state!;
    const lp = await state.nextLogprobs();
    const V = lp.vocab;
    this.stats.steps++;
    this.stats.decodedTokens += this.active.length;
    this.stats.maxBatch = Math.max(this.stats.maxBatch, this.active.length);
    const chosen = this.active.map((seq, row) =>
      sampleToken(lp.data, row * V, V, seq.job.req.sampling, seq.job.rng.next),
    );
    const continuing: number[] = [];
    this.active.forEach((seq, row) => {
      const token = chosen[row];
      if (this.eosIds.has(token)) {
        seq.finish = 'eos';
        return;
      }
      const logprob = lp.data[row * V + token];
      const top = topTokens(lp.data, row * V, V, seq.job.req.topLogprobs);
      seq.tokens.push(token);
      seq.logprobs.push(logprob);
      seq.top.push(top);
      // text is needed per token only for streaming and stop strings; otherwise once, at the end
      const delta = textPerToken(seq.job.req) ? seq.stream.update(seq.tokens) : '';
      if (seq.stream.stoppedBy !== null) seq.finish = 'stop';
      else if (seq.tokens.length >= seq.budget) seq.finish = 'length';
      seq.job.req.onToken?.({ choice: seq.choice, token, logprob, top, delta });
      if (seq.finish === null) continuing.push(row);
    });
    const finished = this.active.filter((s) => s.finish !== null);
    this.keepRows(continuing);
    if (continuing.length) await this.state!.append(continuing.map((row) => [chosen[row]]));
    for (const seq of finished) this.complete(seq);
  }

  private complete(seq: Sequence): void {
    const job = seq.job;
    if (--job.unfinished > 0) return;
    if (!textPerToken(job.req)) for (const s of job.seqs) s.stream.update(s.tokens);
    job.resolve(
      job.seqs.map((s) => ({
        text: s.stream.text,
        tokens: s.tokens,
        logprobs: s.logprobs,
        top: s.top,
        finishReason: s.finish!,
        stopString: s.stream.stoppedBy,
        tail: s.stream.flush(),
      })),
    );
  }

  private failAll(error: unknown): void {
    const jobs = new Set([...this.active.map((s) => s.job), ...this.waiting]);
    for (const job of jobs) job.reject(error);
    this.active = [];
    this.waiting = [];
    this.state?.close();
    this.state = null;
  }
}

const textPerToken = (req: GenerationRequest) => req.onToken !== undefined || req.stop.length > 0;
