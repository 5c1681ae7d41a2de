/**
 * The KV cache of a batch of sequences, kept on the JS side: per layer, keys and values
 * [B, Hkv, C, hd] with C columns of capacity. Each row is packed to the left: row b's tokens sit
 * in columns 0 .. length(b)−1, so rows of different lengths leave no holes between their tokens,
 * and the columns a step attends over (`used`, the longest row) are the fewest possible; the
 * attention bias masks each row's columns past its length. The buffers go to onnxruntime as
 * they are, and a step hands back only the new tokens' keys/values, so a decode step costs
 * O(new tokens) here instead of a copy of the whole cache in and out. Capacity grows by half
 * again when full, which keeps appending amortized O(1) per token.
 *
 * A server's batch changes rows often (requests end, others arrive): retain() and absorb() do
 * that in place, moving or copying only the rows concerned, in buffers that keep room for rows
 * that come back.
 */
import type { ModelConfig } from '../../models/config.ts';

type CacheShape = Pick<ModelConfig, 'numLayers' | 'numKvHeads' | 'headDim'>;

export interface KvLayer {
  k: Float32Array;
  v: Float32Array;
}

/**
 * Buffers of caches that were let go (release()), by length, for the next cache of that length: a
 * server's batch is forked when a request ends and joined when one arrives, and a fresh zeroed
 * buffer each time, with its collection, cost more than the decode steps themselves (stories260K,
 * 8 clients). Bounded: beyond POOL_BYTES the oldest lengths are dropped to the collector.
 */
const pool = new Map<number, Float32Array[]>();
let pooledBytes = 0;
const POOL_BYTES = 32 * 2 ** 20;

/** A zeroed buffer of `length` floats, from the pool when it has one. */
function takeBuffer(length: number): Float32Array {
  const free = pool.get(length);
  const buffer = free?.pop();
  if (!buffer) return new Float32Array(length);
  pooledBytes -= buffer.byteLength;
  if (!free!.length) pool.delete(length);
  return buffer.fill(0);
}

function giveBuffer(buffer: Float32Array): void {
  if (buffer.length === 0 || buffer.byteLength > POOL_BYTES) return;
  // the oldest lengths go first (a Map iterates in insertion order)
  for (const [length, free] of pool) {
    if (pooledBytes + buffer.byteLength <= POOL_BYTES) break;
    pooledBytes -= free.length * length * 4;
    pool.delete(length);
  }
  const free = pool.get(buffer.length);
  if (free) free.push(buffer);
  else pool.set(buffer.length, [buffer]);
  pooledBytes += buffer.byteLength;
}

export class KvCache {
  /** per layer, the rows in use of `storage`: what a step is fed */
  readonly layers: KvLayer[] = [];
  /** bumped whenever rows move in place (retain, absorb): a copy of the cache kept elsewhere is stale then */
  revision = 0;
  private filled = 0;

  private constructor(
    private readonly cfg: CacheShape,
    private rows: number,
    readonly capacity: number,
    /** tokens held by each row (its columns 0 .. length−1) */
    private readonly lengths: number[],
    /** per layer, keys and values with room for `roomRows` rows */
    private readonly storage: KvLayer[],
    private readonly roomRows: number,
  ) {
    this.refresh();
  }

  static empty(cfg: CacheShape, batch: number): KvCache {
    return KvCache.allocate(cfg, new Array<number>(batch).fill(0), 0, batch);
  }

  private static allocate(cfg: CacheShape, lengths: number[], capacity: number, roomRows: number): KvCache {
    const size = roomRows * cfg.numKvHeads * capacity * cfg.headDim;
    const storage = Array.from({ length: cfg.numLayers }, () => ({ k: takeBuffer(size), v: takeBuffer(size) }));
    return new KvCache(cfg, lengths.length, capacity, lengths, storage, roomRows);
  }

  /** floats of one row in every layer's keys (or values) */
  private get block(): number {
    return this.cfg.numKvHeads * this.capacity * this.cfg.headDim;
  }

  /** the views of the rows in use, and the longest row, after the rows changed */
  private refresh(): void {
    const size = this.rows * this.block;
    this.layers.length = 0;
    for (const s of this.storage) this.layers.push({ k: s.k.subarray(0, size), v: s.v.subarray(0, size) });
    this.filled = this.lengths.reduce((a, b) => Math.max(a, b), 0);
  }

  /**
   * Gives the buffers back for later caches: only by the cache's sole owner (a decode state),
   * when it drops the cache. The cache is empty afterwards.
   */
  release(): void {
    for (const layer of this.storage) {
      giveBuffer(layer.k);
      giveBuffer(layer.v);
    }
    this.storage.length = 0;
    this.layers.length = 0;
    this.rows = 0;
    this.lengths.length = 0;
    this.filled = 0;
  }

  get batch(): number {
    return this.rows;
  }

  /** Columns in use: the longest row's length (shorter rows' columns past their length are masked). */
  get used(): number {
    return this.filled;
  }

  /** tokens held by row `row` */
  lengthOf(row: number): number {
    return this.lengths[row];
  }

  /** dims of each layer's keys/values as fed to the step graph */
  get dims(): number[] {
    return [this.rows, this.cfg.numKvHeads, this.capacity, this.cfg.headDim];
  }

  /**
   * A cache with room for `extra` more columns: this one, or a larger copy, `growth` times as
   * wide (growing past `limit` only as needed).
   */
  reserve(extra: number, limit = Infinity, growth = 1.5): KvCache {
    const needed = this.filled + extra;
    if (needed <= this.capacity) return this;
    return this.resize(Math.max(needed, Math.min(Math.ceil(this.capacity * growth), limit)));
  }

  /** A copy `capacity` columns wide (at least `used`), with the same rows and room for rows. */
  resize(capacity: number): KvCache {
    const out = KvCache.allocate(this.cfg, this.lengths.slice(), Math.max(capacity, this.filled), this.roomRows);
    this.copyRows(out, 0);
    return out;
  }

  /**
   * Writes the step's `new_kv` output [B, T, L·2·Hkv·hd] after each row's tokens: row b's first
   * `counts[b]` new tokens (all T without `counts`; the rest are padding) go to its columns
   * length(b) ... There must be room: see reserve().
   */
  append(newKv: Float32Array, length: number, counts?: readonly number[]): void {
    const { numKvHeads: Hkv, headDim: hd } = this.cfg;
    const C = this.capacity;
    const width = this.layers.length * 2 * Hkv * hd;
    // plain loops: a decode step writes B·L·2·Hkv short runs of hd floats, where subarray+set costs more than the copy
    for (let b = 0; b < this.rows; b++) {
      const count = counts ? counts[b] : length;
      for (let i = 0; i < count; i++) {
        const column = this.lengths[b] + i;
        let src = (b * length + i) * width;
        for (const layer of this.layers) {
          for (let kind = 0; kind < 2; kind++) {
            const target = kind === 0 ? layer.k : layer.v;
            for (let h = 0; h < Hkv; h++) {
              const dst = ((b * Hkv + h) * C + column) * hd;
              for (let d = 0; d < hd; d++) target[dst + d] = newKv[src++];
            }
          }
        }
      }
      this.lengths[b] += count;
    }
    this.filled = this.lengths.reduce((a, b) => Math.max(a, b), 0);
  }

  /** The rows `indices` (repeats allowed) in that order, as a new cache: beam reordering, no recomputation. */
  select(indices: readonly number[]): KvCache {
    const block = this.block;
    const out = KvCache.allocate(
      this.cfg,
      indices.map((i) => this.lengths[i]),
      this.capacity,
      indices.length,
    );
    this.storage.forEach((layer, l) => {
      indices.forEach((from, to) => {
        out.storage[l].k.set(layer.k.subarray(from * block, (from + 1) * block), to * block);
        out.storage[l].v.set(layer.v.subarray(from * block, (from + 1) * block), to * block);
      });
    });
    return out;
  }

  /** Keeps only the rows `rows` (ascending, no repeats), in place: the later rows move down. */
  retain(rows: readonly number[]): void {
    const block = this.block;
    rows.forEach((from, to) => {
      if (from === to) return;
      for (const layer of this.storage) {
        layer.k.copyWithin(to * block, from * block, (from + 1) * block);
        layer.v.copyWithin(to * block, from * block, (from + 1) * block);
      }
    });
    const lengths = rows.map((row) => this.lengths[row]);
    this.lengths.length = 0;
    this.lengths.push(...lengths);
    this.rows = rows.length;
    this.revision++;
    this.refresh();
  }

  /**
   * Appends the rows of `other` after this cache's rows: in place where the buffers have room
   * for them (only `other`'s rows are copied), else into a larger cache that is returned (this
   * one is then left as it was, for its owner to release).
   */
  absorb(other: KvCache): KvCache {
    const rows = this.rows + other.rows;
    if (rows <= this.roomRows && other.filled <= this.capacity) {
      other.copyRows(this, this.rows);
      this.lengths.push(...other.lengths);
      this.rows = rows;
      this.revision++;
      this.refresh();
      return this;
    }
    const out = KvCache.allocate(
      this.cfg,
      [...this.lengths, ...other.lengths],
      Math.max(this.capacity, other.filled),
      Math.max(rows, Math.ceil(this.roomRows * 1.5)),
    );
    this.copyRows(out, 0);
    other.copyRows(out, this.rows);
    return out;
  }

  /** The rows of `a` followed by those of `b`, as a new cache at the larger capacity of the two. */
  static join(a: KvCache, b: KvCache): KvCache {
    const out = KvCache.allocate(
      a.cfg,
      [...a.lengths, ...b.lengths],
      Math.max(a.capacity, b.capacity),
      a.rows + b.rows,
    );
    a.copyRows(out, 0);
    b.copyRows(out, a.rows);
    return out;
  }

  /** Copies every row's filled columns into `out` (at least as wide) from row `firstRow` on. */
  private copyRows(out: KvCache, firstRow: number): void {
    const { numKvHeads: Hkv, headDim: hd } = this.cfg;
    const C = this.capacity,
      D = out.capacity;
    for (let b = 0; b < this.rows; b++) {
      const columns = this.lengths[b] * hd;
      this.storage.forEach((layer, l) => {
        for (const kind of ['k', 'v'] as const) {
          const src = layer[kind],
            dst = out.storage[l][kind];
          for (let h = 0; h < Hkv; h++) {
            const from = (b * Hkv + h) * C * hd,
              to = ((firstRow + b) * Hkv + h) * D * hd;
            dst.set(src.subarray(from, from + columns), to);
          }
        }
      });
    }
  }
}
