/**
 * A small deterministic PRNG for every seeded thing in alignkit (sampling, shuffles, random
 * weights). mulberry32 for uniforms, Box-Muller for normals: the same seed gives the same
 * stream on every platform, which Math.random cannot.
 */
export interface Rng {
  /** uniform in [0, 1) */
  next(): number;
  /** standard normal (mean 0, std 1) */
  normal(): number;
  /** uniform integer in [0, n) */
  int(n: number): number;
  /** Fisher-Yates shuffle in place; returns the same array */
  shuffle<T>(items: T[]): T[];
}

/** Mixes an arbitrary number (large, negative, fractional) into a 32-bit starting state. */
function seedState(seed: number): number {
  if (!Number.isFinite(seed)) throw new RangeError(`seed must be a finite number, got ${seed}`);
  const whole = Math.floor(seed);
  const low = whole >>> 0;
  const high = Math.floor(whole / 2 ** 32) >>> 0;
  let h = (low ^ Math.imul(high, 0x9e3779b1) ^ 0x6d2b79f5) >>> 0;
  // one round of the murmur3 finalizer so nearby seeds give unrelated streams
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

export function createRng(seed: number): Rng {
  let state = seedState(seed);
  let spareNormal: number | null = null;

  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };

  const normal = (): number => {
    if (spareNormal !== null) {
      const z = spareNormal;
      spareNormal = null;
      return z;
    }
    const u1 = 1 - next(); // (0, 1], so log never sees 0
    const u2 = next();
    const r = Math.sqrt(-2 * Math.log(u1));
    spareNormal = r * Math.sin(2 * Math.PI * u2);
    return r * Math.cos(2 * Math.PI * u2);
  };

  const int = (n: number): number => {
    if (!Number.isInteger(n) || n <= 0) throw new RangeError(`int(n) needs a positive integer, got ${n}`);
    return Math.floor(next() * n);
  };

  const shuffle = <T>(items: T[]): T[] => {
    for (let i = items.length - 1; i > 0; i--) {
      const j = int(i + 1);
      const tmp = items[i];
      items[i] = items[j];
      items[j] = tmp;
    }
    return items;
  };

  return { next, normal, int, shuffle };
}
