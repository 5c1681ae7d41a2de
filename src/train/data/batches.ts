/**
 * The order examples are trained in: shuffled with the seed (a fresh order per epoch), grouped
 * into windows of 32 batches that are sorted by length so each batch pads little, then the
 * batches shuffled. The same seed, epoch and data give the same batches, so a resumed run
 * continues exactly where the killed one stopped.
 */
import { createRng } from '../../util/random.ts';

const BATCHES_PER_WINDOW = 32;

/** Batches of example indices for one epoch. */
export function epochBatches(lengths: readonly number[], batchSize: number, seed: number, epoch: number): number[][] {
  const rng = createRng(seed * 1_000_003 + epoch);
  const order = rng.shuffle(lengths.map((_, i) => i));
  const batches: number[][] = [];
  const window = batchSize * BATCHES_PER_WINDOW;
  for (let w = 0; w < order.length; w += window) {
    const chunk = order.slice(w, w + window).sort((a, b) => lengths[b] - lengths[a] || a - b);
    for (let b = 0; b < chunk.length; b += batchSize) batches.push(chunk.slice(b, b + batchSize));
  }
  return rng.shuffle(batches);
}

/** Deterministic split of items into train and held-out parts (`fraction` held out, at least one). */
export function holdOut<T>(items: readonly T[], fraction: number, seed: number): { train: T[]; heldOut: T[] } {
  const order = createRng(seed ^ 0x5eed).shuffle(items.map((_, i) => i));
  const n = Math.min(items.length - 1, Math.max(1, Math.round(items.length * fraction)));
  const held = new Set(order.slice(0, n));
  return { train: items.filter((_, i) => !held.has(i)), heldOut: items.filter((_, i) => held.has(i)) };
}
