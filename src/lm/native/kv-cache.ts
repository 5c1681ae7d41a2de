/**
 * The KV cache of a batch of sequences, kept on the JS side: per layer, keys and values
 * [B, Hkv, C, hd] with C columns of capacity of which the first `used` are filled (rows share
 * columns; the attention bias masks holes and unused columns). The buffers go to onnxruntime
 * as they are, and a step hands back only the new tokens' keys/values, so a decode step costs
 * O(new tokens) here instead of a copy of the whole cache in and out. Capacity grows by half
 * again when full, which keeps appending amortized O(1) per token.
 */
import type { ModelConfig } from '../../models/config.ts';

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
  private constructor(
    private readonly cfg: Pick<ModelConfig, 'numLayers' | 'numKvHeads' | 'headDim'>,
    readonly batch: number,
    readonly capacity: number,
    private filled: number,
    readonly layers: KvLayer[],
  ) {}

  static empty(cfg: Pick<ModelConfig, 'numLayers' | 'numKvHeads' | 'headDim'>, batch: number): KvCache {
    return KvCache.allocate(cfg, batch, 0, 0);
  }

  private static allocate(
    cfg: Pick<ModelConfig, 'numLayers' | 'numKvHeads' | 'headDim'>,
    batch: number,
    capacity: number,
    used: number,
  ): KvCache {
    const size = batch * cfg.numKvHeads * capacity * cfg.headDim;
    const layers = Array.from({ length: cfg.numLayers }, () => ({ k: takeBuffer(size), v: takeBuffer(size) }));
    return new KvCache(cfg, batch, capacity, used, layers);
  }

  /**
   * Gives the buffers back for later caches: only by the cache's sole owner (a decode state),
   * when it drops the cache. The cache is empty afterwards.
   */
  release(): void {
    for (const layer of this.layers) {
      giveBuffer(layer.k);
      giveBuffer(layer.v);
    }
    this.layers.length = 0;
    this.filled = 0;
  }

  /** Columns in use (the same for every row; rows with fewer tokens have holes). */
  get used(): number {
    return this.filled;
  }

  /** dims of each layer's keys/values as fed to the step graph */
  get dims(): number[] {
    return [this.batch, this.cfg.numKvHeads, this.capacity, this.cfg.headDim];
  }

  /** A cache with room for `extra` more columns: this one, or a larger copy (growing past `limit` only as needed). */
  reserve(extra: number, limit = Infinity): KvCache {
    const needed = this.filled + extra;
    if (needed <= this.capacity) return this;
    const out = KvCache.allocate(
      this.cfg,
      this.batch,
      Math.max(needed, Math.min(Math.ceil(this.capacity * 1.5), limit)),
      this.filled,
    );
    this.copyInto(out, 0);
    return out;
  }

  /**
   * Writes the step's `new_kv` output [B, T, L·2·Hkv·hd] into columns used .. used+T−1 (there
   * must be room: see reserve()).
   */
  append(newKv: Float32Array, length: number): void {
    const { numKvHeads: Hkv, headDim: hd } = this.cfg;
    const C = this.capacity;
    // plain loops: a decode step writes B·L·2·Hkv short runs of hd floats, where subarray+set costs more than the copy
    for (let b = 0; b < this.batch; b++) {
      for (let i = 0; i < length; i++) {
        const column = this.filled + i;
        let src = (b * length + i) * this.layers.length * 2 * Hkv * hd;
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
    }
    this.filled += length;
  }

  /** The rows `indices` (repeats allowed) in that order: beam reordering, no recomputation. */
  select(indices: readonly number[]): KvCache {
    const block = this.cfg.numKvHeads * this.capacity * this.cfg.headDim;
    const out = KvCache.allocate(this.cfg, indices.length, this.capacity, this.filled);
    this.layers.forEach((layer, l) => {
      indices.forEach((from, to) => {
        out.layers[l].k.set(layer.k.subarray(from * block, (from + 1) * block), to * block);
        out.layers[l].v.set(layer.v.subarray(from * block, (from + 1) * block), to * block);
      });
    });
    return out;
  }

  /** Keeps, per row, only the columns marked in `keep[row]`, packed to the front (same capacity). */
  pack(keep: readonly Uint8Array[]): KvCache {
    const kept = keep.map((marks) => {
      const cols: number[] = [];
      marks.forEach((m, c) => {
        if (m) cols.push(c);
      });
      return cols;
    });
    const used = Math.max(0, ...kept.map((c) => c.length));
    const out = KvCache.allocate(this.cfg, this.batch, this.capacity, used);
    this.copyInto(out, 0, (row, column) => kept[row][column]);
    return out;
  }

  /** The rows of `a` followed by those of `b`, at the larger width (and capacity) of the two. */
  static join(a: KvCache, b: KvCache): KvCache {
    const used = Math.max(a.filled, b.filled);
    const out = KvCache.allocate(a.cfg, a.batch + b.batch, Math.max(a.capacity, b.capacity), used);
    a.copyInto(out, 0);
    b.copyInto(out, a.batch);
    return out;
  }

  /**
   * Copies every row of this cache into `out` from row `firstRow` on. Column c of `out` takes
   * column columnOf(row, c) of this cache (undefined: stays zero); without `columnOf`, the
   * filled columns are copied as they are.
   */
  private copyInto(
    out: KvCache,
    firstRow: number,
    columnOf?: (row: number, column: number) => number | undefined,
  ): void {
    const { numKvHeads: Hkv, headDim: hd } = this.cfg;
    const C = this.capacity,
      D = out.capacity;
    for (let b = 0; b < this.batch; b++) {
      this.layers.forEach((layer, l) => {
        for (const kind of ['k', 'v'] as const) {
          const src = layer[kind],
            dst = out.layers[l][kind];
          for (let h = 0; h < Hkv; h++) {
            const from = (b * Hkv + h) * C,
              to = ((firstRow + b) * Hkv + h) * D;
            if (!columnOf) {
              dst.set(src.subarray(from * hd, (from + this.filled) * hd), to * hd);
              continue;
            }
            for (let c = 0; c < out.filled; c++) {
              const column = columnOf(b, c);
              if (column !== undefined)
                dst.set(src.subarray((from + column) * hd, (from + column + 1) * hd), (to + c) * hd);
            }
          }
        }
      });
    }
  }
}
