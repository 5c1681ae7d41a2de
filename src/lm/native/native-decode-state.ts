/**
 * KV-cached decoding state of the native backend. All sequences share one cache (see
 * kv-cache.ts), each row packed to the left; `valid[b][k]` says whether cache column k holds a
 * real token of row b (columns 0 .. length−1). fork() copies rows (beam reordering) without
 * recomputation; retain() and absorb() drop and add rows in place (a server's batch).
 */
import type { DecodeState, LogprobMatrix } from '../language-model.ts';
import type { NativeRuntime, StepRequest } from './runtime.ts';
import { hostTurn } from '../../util/io.ts';
import { KvCache } from './kv-cache.ts';
import { BiasScratch, stepBiases } from './attention-bias.ts';
import { inputError } from '../../errors.ts';

export interface StateCounters {
  processedTokens: number;
}

export class NativeDecodeState implements DecodeState {
  private next: Float32Array | null = null;
  prefixHidden?: Float32Array[];
  private closed = false;
  readonly scalars?: () => number[];
  private readonly biasScratch = new BiasScratch();

  constructor(
    private readonly rt: NativeRuntime,
    private readonly counters: StateCounters,
    private seqs: number[][],
    private cache: KvCache,
    private valid: Uint8Array[],
    next: Float32Array | null,
    /** scalar head at each row's last token, for models that have one */
    private scalar: Float32Array | null,
  ) {
    this.next = next;
    if (scalar) this.scalars = () => Array.from(this.scalar!);
  }

  static empty(rt: NativeRuntime, counters: StateCounters, batch: number, scalarHead = false): NativeDecodeState {
    return new NativeDecodeState(
      rt,
      counters,
      Array.from({ length: batch }, () => []),
      rt.emptyCache(batch),
      Array.from({ length: batch }, () => new Uint8Array(0)),
      null,
      scalarHead ? new Float32Array(batch).fill(NaN) : null,
    );
  }

  get size(): number {
    return this.seqs.length;
  }

  tokens(index: number): readonly number[] {
    return this.seqs[index];
  }

  async nextLogprobs(): Promise<LogprobMatrix> {
    this.assertOpen();
    if (!this.next) throw inputError('no tokens in this state yet: open() it with a non-empty prefix');
    return { rows: this.size, vocab: this.rt.cfg.vocabSize, data: this.next };
  }

  async append(chunks: readonly (readonly number[])[]): Promise<number[][]> {
    return (await this.appendChunks(chunks, [])).logprobs;
  }

  /**
   * Runs the chunks through the model. Returns each appended token's log-prob (the first token
   * of a row is scored by the row's previous next-token distribution; rows with no history get
   * NaN for it) and, for requested layers, the residual stream at each row's last new token.
   * With `scored: false` (a prefill whose log-probs nobody reads) the LM head runs only at each
   * row's last token and the log-probs are left empty.
   */
  async appendChunks(
    chunks: readonly (readonly number[])[],
    layers: readonly number[],
    scored = true,
  ): Promise<{ logprobs: number[][]; lastHidden: Float32Array[] }> {
    this.assertOpen();
    const cfg = this.rt.cfg;
    const B = this.size;
    if (chunks.length !== B) throw inputError(`append got ${chunks.length} chunks for ${B} sequences`);
    const lengths = chunks.map((c) => c.length);
    const T = Math.max(0, ...lengths);
    if (T === 0) return { logprobs: chunks.map(() => []), lastHidden: layers.map(() => new Float32Array(0)) };
    for (let b = 0; b < B; b++) {
      if (this.seqs[b].length + lengths[b] > cfg.maxPositions)
        throw inputError(
          `sequence of ${this.seqs[b].length + lengths[b]} tokens exceeds the model's context of ${cfg.maxPositions}`,
        );
      for (const t of chunks[b])
        if (!Number.isInteger(t) || t < 0 || t >= cfg.vocabSize)
          throw inputError(`token id ${t} is outside the vocabulary (0..${cfg.vocabSize - 1})`);
    }
    const P = this.cache.used;
    const ids = new Array<number>(B * T).fill(0);
    const positions = new Array<number>(B * T).fill(0);
    for (let b = 0; b < B; b++) {
      const before = this.seqs[b].length;
      for (let i = 0; i < T; i++) {
        ids[b * T + i] = i < lengths[b] ? chunks[b][i] : 0;
        positions[b * T + i] = Math.min(before + Math.min(i, Math.max(lengths[b] - 1, 0)), cfg.maxPositions - 1);
      }
    }
    // columns past `P` (free capacity) have no `valid` entry, so the bias masks them too
    const biases = stepBiases(
      this.rt.windows,
      this.valid,
      this.cache.capacity,
      lengths,
      T,
      this.seqs.map((s) => s.length),
      this.biasScratch,
      P,
    );
    // the head scores each new token from its predecessor and gives full log-probs after each row's last token
    const scoreRows: number[] = [];
    const targets: number[] = [];
    const nextRows: number[] = [];
    const rowsWithNext: number[] = [];
    for (let b = 0; b < B; b++) {
      if (scored)
        for (let i = 0; i + 1 < lengths[b]; i++) {
          scoreRows.push(b * T + i);
          targets.push(chunks[b][i + 1]);
        }
      if (lengths[b] > 0) {
        nextRows.push(b * T + lengths[b] - 1);
        rowsWithNext.push(b);
      }
    }
    const req: StepRequest = {
      ids,
      positions,
      biases,
      batch: B,
      length: T,
      cache: this.cache,
      scoreRows,
      targets,
      nextRows,
      fetchNewKv: true,
      layers,
      fetchScalar: this.scalar !== null,
    };
    // on the kernel, at once: the step's arrays are views that the next step (maybe another
    // state's, in a server) overwrites, so everything below up to the cache append stays synchronous
    const turn = hostTurn();
    if (turn) await turn;
    const step = this.rt.runOnKernel(req) ?? (await this.rt.run(req));
    this.counters.processedTokens += lengths.reduce((a, b) => a + b, 0);

    const V = cfg.vocabSize;
    const D = cfg.hiddenSize;
    const next = this.next ?? new Float32Array(B * V).fill(NaN);
    const logprobs: number[][] = [];
    let r = 0;
    for (let b = 0; b < B && scored; b++) {
      const lp: number[] = [];
      if (lengths[b] > 0) lp.push(next[b * V + chunks[b][0]]);
      for (let i = 1; i < lengths[b]; i++) lp.push(step.targetLogprobs[r++]);
      logprobs.push(lp);
    }
    rowsWithNext.forEach((b, j) => next.set(step.nextLogprobs.subarray(j * V, (j + 1) * V), b * V));
    this.next = next;
    if (this.scalar)
      rowsWithNext.forEach((b, j) => {
        this.scalar![b] = step.scalar![j];
      });

    const lastHidden = layers.map((l) => {
      const src = step.layers.get(l)!;
      const out = new Float32Array(B * D);
      for (let b = 0; b < B; b++)
        if (lengths[b] > 0) out.set(src.subarray((b * T + lengths[b] - 1) * D, (b * T + lengths[b]) * D), b * D);
      return out;
    });

    // room is made after the step, so that a prefill attends over its own tokens only
    this.replaceCache(this.cache.reserve(T, cfg.maxPositions, this.growth));
    this.cache.append(step.newKv!, T, lengths);
    const capacity = this.cache.capacity;
    this.valid = this.valid.map((v, b) => {
      let marks = v;
      if (marks.length < capacity) {
        marks = new Uint8Array(capacity);
        marks.set(v);
      }
      const before = this.seqs[b].length;
      marks.fill(1, before, before + lengths[b]);
      return marks;
    });
    chunks.forEach((chunk, b) => {
      for (const t of chunk) this.seqs[b].push(t);
    });
    return { logprobs, lastHidden };
  }

  /**
   * Makes room now for `tokens` more columns (a decode of known length), so that the cache grows
   * once instead of by half again whenever full. Only where the steps run on the WebAssembly
   * kernel, whose work grows with the filled columns; onnxruntime's attends over the whole
   * capacity.
   */
  reserve(tokens: number): void {
    this.assertOpen();
    if (this.rt.runtime === 'wasm') this.replaceCache(this.cache.reserve(tokens, this.rt.cfg.maxPositions));
  }

  /** Takes `cache` as this state's own, giving the old one's buffers back (states never share caches). */
  private replaceCache(cache: KvCache): void {
    if (cache === this.cache) return;
    this.cache.release();
    this.cache = cache;
  }

  fork(indices: readonly number[]): NativeDecodeState {
    this.assertOpen();
    for (const i of indices)
      if (!Number.isInteger(i) || i < 0 || i >= this.size)
        throw inputError(`fork index ${i} out of range 0..${this.size - 1}`);
    const V = this.rt.cfg.vocabSize;
    let next: Float32Array | null = null;
    if (this.next) {
      next = new Float32Array(indices.length * V);
      indices.forEach((from, to) => next!.set(this.next!.subarray(from * V, (from + 1) * V), to * V));
    }
    return new NativeDecodeState(
      this.rt,
      this.counters,
      indices.map((i) => this.seqs[i].slice()),
      this.cache.select(indices),
      indices.map((i) => this.valid[i].slice()),
      next,
      this.scalar ? Float32Array.from(indices, (i) => this.scalar![i]) : null,
    );
  }

  concat(other: DecodeState): NativeDecodeState {
    this.assertOpen();
    if (!(other instanceof NativeDecodeState) || other.rt !== this.rt)
      throw inputError('concat needs two decode states of the same native model');
    other.assertOpen();
    const joined = KvCache.join(this.cache, other.cache);
    const P = joined.used;
    const V = this.rt.cfg.vocabSize;
    const valid = [...this.valid, ...other.valid].map((v) => {
      const w = new Uint8Array(P);
      w.set(v.subarray(0, P));
      return w;
    });
    let next: Float32Array | null = null;
    if (this.next && other.next) {
      next = new Float32Array((this.size + other.size) * V);
      next.set(this.next);
      next.set(other.next, this.size * V);
    }
    const scalar = this.scalar && other.scalar ? Float32Array.from([...this.scalar, ...other.scalar]) : null;
    return new NativeDecodeState(
      this.rt,
      this.counters,
      [...this.seqs, ...other.seqs].map((s) => s.slice()),
      joined,
      valid,
      next,
      scalar,
    );
  }

  /**
   * Keeps only the rows `rows` (ascending, no repeats), in place: what fork(rows) gives without
   * copying the rows that stay where they are (a server drops the requests that ended).
   */
  retain(rows: readonly number[]): void {
    this.assertOpen();
    rows.forEach((row, i) => {
      if (!Number.isInteger(row) || row < 0 || row >= this.size || (i > 0 && row <= rows[i - 1]))
        throw inputError(`retain needs ascending row indices in 0..${this.size - 1}, got [${rows.join(', ')}]`);
    });
    if (rows.length === this.size) return;
    const V = this.rt.cfg.vocabSize;
    const next = this.next;
    rows.forEach((from, to) => {
      if (next && from !== to) next.copyWithin(to * V, from * V, (from + 1) * V);
      if (this.scalar) this.scalar[to] = this.scalar[from];
    });
    if (next) this.next = next.subarray(0, rows.length * V);
    if (this.scalar) this.scalar = this.scalar.subarray(0, rows.length);
    this.seqs = rows.map((row) => this.seqs[row]);
    this.valid = rows.map((row) => this.valid[row]);
    this.cache.retain(rows);
    // onnxruntime attends over the whole capacity: when the longest rows have left, a narrower
    // copy (once) is cheaper than the masked columns in every later step
    const used = this.cache.used;
    if (this.rt.runtime !== 'wasm' && this.cache.capacity > Math.ceil(used * 1.25) + 8)
      this.replaceCache(this.cache.resize(Math.ceil(used * 1.125) + 1));
  }

  /**
   * How much wider the cache grows when full. onnxruntime attends over the whole capacity, so
   * there the unused columns cost every step: 1.25× wastes half as many as 1.5×, for a copy of
   * the cache (about what one step's attention copies anyway) twice as often. The WebAssembly
   * kernel reads only the filled columns.
   */
  private get growth(): number {
    return this.rt.runtime === 'wasm' ? 1.5 : 1.25;
  }

  /**
   * Adds the rows of `other` (a state of the same model) after this state's rows, in place: what
   * concat(other) gives, copying only `other`'s rows (a server's joining requests). `other` is
   * left as it was, for its owner to close.
   */
  absorb(other: DecodeState): void {
    this.assertOpen();
    if (!(other instanceof NativeDecodeState) || other.rt !== this.rt)
      throw inputError('absorb needs two decode states of the same native model');
    other.assertOpen();
    if (!this.next !== !other.next)
      throw inputError('absorb needs both states to have next-token log-probs, or neither');
    const V = this.rt.cfg.vocabSize;
    if (this.next && other.next) {
      const next = new Float32Array((this.size + other.size) * V);
      next.set(this.next);
      next.set(other.next, this.size * V);
      this.next = next;
    }
    if (this.scalar)
      this.scalar = Float32Array.from([...this.scalar, ...(other.scalar ?? new Float32Array(other.size).fill(NaN))]);
    this.seqs.push(...other.seqs.map((s) => s.slice()));
    this.valid.push(...other.valid.map((v) => v.slice()));
    this.replaceCache(this.cache.absorb(other.cache));
  }

  close(): void {
    this.closed = true;
    this.replaceCache(this.rt.emptyCache(0));
    this.next = null;
  }

  private assertOpen(): void {
    if (this.closed) throw inputError('this decode state was closed');
  }
}
