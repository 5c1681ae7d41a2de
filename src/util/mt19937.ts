/**
 * The 32-bit Mersenne Twister (Matsumoto & Nishimura 1998) as C++'s `std::mt19937` and numpy's
 * legacy `RandomState` seed it from one integer. alignkit's own seeded work uses `random.ts`;
 * this generator exists to reproduce other programs' random streams bit for bit (sklearn's
 * liblinear draws its coordinate orders from it, seeded by numpy's RandomState).
 */
const N = 624;
const M = 397;

export class Mt19937 {
  private readonly state = new Uint32Array(N);
  private index = N;

  constructor(seed: number) {
    if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff)
      throw new RangeError(`Mt19937 seed must be an integer in [0, 2^32), got ${seed}`);
    this.state[0] = seed >>> 0;
    for (let i = 1; i < N; i++) {
      const prev = this.state[i - 1] ^ (this.state[i - 1] >>> 30);
      this.state[i] = (Math.imul(1812433253, prev) + i) >>> 0;
    }
  }

  /** The next 32-bit output, as an unsigned integer. */
  nextUint32(): number {
    if (this.index >= N) this.twist();
    let y = this.state[this.index++];
    y ^= y >>> 11;
    y ^= (y << 7) & 0x9d2c5680;
    y ^= (y << 15) & 0xefc60000;
    y ^= y >>> 18;
    return y >>> 0;
  }

  private twist(): void {
    const s = this.state;
    for (let i = 0; i < N; i++) {
      const y = (s[i] & 0x80000000) | (s[(i + 1) % N] & 0x7fffffff);
      s[i] = s[(i + M) % N] ^ (y >>> 1) ^ (y & 1 ? 0x9908b0df : 0);
    }
    this.index = 0;
  }

  /**
   * A uniform integer in [0, range) by Lemire's multiply-shift with rejection, as sklearn's
   * `bounded_rand_int` (svm/src/newrand) computes it from this generator.
   */
  boundedInt(range: number): number {
    if (!Number.isInteger(range) || range < 1 || range > 0xffffffff)
      throw new RangeError(`boundedInt range must be an integer in [1, 2^32), got ${range}`);
    let product = BigInt(this.nextUint32()) * BigInt(range);
    let low = Number(product & 0xffffffffn);
    if (low < range) {
      const threshold = (2 ** 32 - range) % range;
      while (low < threshold) {
        product = BigInt(this.nextUint32()) * BigInt(range);
        low = Number(product & 0xffffffffn);
      }
    }
    return Number(product >> 32n);
  }
}

/**
 * The integers numpy's legacy `RandomState(seed).randint(2**31 - 1)` returns, one per call: each
 * is the next 32-bit output with its top bit masked off, redrawn if it equals 2^31 − 1.
 */
export function numpyRandintInt32Max(seed: number, count: number): number[] {
  const mt = new Mt19937(seed);
  const out: number[] = [];
  while (out.length < count) {
    const draw = mt.nextUint32() & 0x7fffffff;
    if (draw <= 0x7ffffffe) out.push(draw);
  }
  return out;
}
