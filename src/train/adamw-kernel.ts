/**
 * The AdamW update as a WebAssembly SIMD kernel (4 float32 lanes), for the optimizer's hot loop.
 * V8 runs the plain JS loop in scalar float64 with a square root and a division per element
 * (≈ 8 ns per element here, an order of magnitude above memory bandwidth); this kernel does the
 * same float32 arithmetic as PyTorch's AdamW several times faster. Tensors stream through a
 * small scratch area of the module's memory in cache-sized chunks, so the weights and moments
 * stay ordinary Float32Arrays of any size. The module is assembled here byte by byte (a few
 * hundred bytes, no toolchain); where WebAssembly SIMD is unavailable, `loadAdamwKernel` returns
 * null and the optimizer keeps its JS loop.
 */

export interface AdamwCoefficients {
  beta1: number;
  beta2: number;
  /** lr / (1 − β1ᵗ) */
  stepSize: number;
  /** 1 / √(1 − β2ᵗ) */
  invSqrtBc2: number;
  eps: number;
  /** 1 − lr·weight_decay */
  keep: number;
  /** gradient scale (clipping) */
  gradScale: number;
}

export type AdamwKernel = (
  w: Float32Array,
  g: Float32Array,
  m: Float32Array,
  v: Float32Array,
  c: AdamwCoefficients,
) => void;

/** Floats per array per chunk (64 KiB each; four arrays stay in L2). */
const CHUNK = 16384;

const uleb = (n: number): number[] => {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n) b |= 0x80;
    out.push(b);
  } while (n);
  return out;
};
const section = (id: number, body: number[]) => [id, ...uleb(body.length), ...body];
const vec = (items: number[][]) => [...uleb(items.length), ...items.flat()];
const name = (s: string) => vec([...new TextEncoder().encode(s)].map((b) => [b]));

// opcodes
const I32 = 0x7f,
  F32 = 0x7d,
  V128 = 0x7b;
const get = (i: number) => [0x20, ...uleb(i)];
const set = (i: number) => [0x21, ...uleb(i)];
const simd = (op: number) => [0xfd, ...uleb(op)];
const load = [...simd(0x00), 4, 0]; // v128.load align=16 offset=0
const store = [...simd(0x0b), 4, 0];
const [splat, sqrt, add, sub, mul, div] = [simd(0x13), simd(0xe3), simd(0xe4), simd(0xe5), simd(0xe6), simd(0xe7)];
const i32Add = [0x6a];

/** (p, g, m, v, n, β1, 1−β1, β2, 1−β2, stepSize, 1/√bc2, ε, keep, gradScale) → in-place update of n floats (a multiple of 4). */
function moduleBytes(): Uint8Array<ArrayBuffer> {
  const [P, G, M, V, N] = [0, 1, 2, 3, 4];
  const scalar = { b1: 5, c1: 6, b2: 7, c2: 8, step: 9, rb: 10, eps: 11, keep: 12, gs: 13 };
  const I = 14,
    END = 15;
  const splatOf = (param: number) => param + 11; // v128 locals 16..24 hold the splatted scalars
  const [GI, MI, VI] = [25, 26, 27];
  const at = (base: number) => [...get(base), ...get(I), ...i32Add];
  const body = [
    ...vec([
      [2, I32],
      [12, V128],
    ]),
    ...Object.values(scalar).flatMap((p) => [...get(p), ...splat, ...set(splatOf(p))]),
    ...get(N),
    0x41,
    2,
    0x74,
    ...set(END), // end = n << 2 (bytes)
    0x02,
    0x40,
    0x03,
    0x40, // block, loop
    ...get(I),
    ...get(END),
    0x4f,
    0x0d,
    1, // br_if (i >= end) out of the block
    ...at(G),
    ...load,
    ...get(splatOf(scalar.gs)),
    ...mul,
    ...set(GI),
    ...at(M),
    ...load,
    ...get(splatOf(scalar.b1)),
    ...mul,
    ...get(GI),
    ...get(splatOf(scalar.c1)),
    ...mul,
    ...add,
    ...set(MI),
    ...at(M),
    ...get(MI),
    ...store,
    ...at(V),
    ...load,
    ...get(splatOf(scalar.b2)),
    ...mul,
    ...get(GI),
    ...get(GI),
    ...mul,
    ...get(splatOf(scalar.c2)),
    ...mul,
    ...add,
    ...set(VI),
    ...at(V),
    ...get(VI),
    ...store,
    ...at(P),
    ...at(P),
    ...load,
    ...get(splatOf(scalar.keep)),
    ...mul,
    ...get(MI),
    ...get(splatOf(scalar.step)),
    ...mul,
    ...get(VI),
    ...sqrt,
    ...get(splatOf(scalar.rb)),
    ...mul,
    ...get(splatOf(scalar.eps)),
    ...add,
    ...div,
    ...sub,
    ...store,
    ...get(I),
    0x41,
    16,
    ...i32Add,
    ...set(I), // i += 16
    0x0c,
    0,
    0x0b,
    0x0b, // br loop; end loop; end block
    0x0b, // end function
  ];
  const params = [I32, I32, I32, I32, I32, F32, F32, F32, F32, F32, F32, F32, F32, F32];
  return Uint8Array.from([
    0x00,
    0x61,
    0x73,
    0x6d,
    0x01,
    0x00,
    0x00,
    0x00,
    ...section(1, vec([[0x60, ...vec(params.map((t) => [t])), 0]])),
    ...section(3, vec([[0]])),
    ...section(5, vec([[0x00, ...uleb(Math.ceil((4 * CHUNK * 4) / 65536))]])),
    ...section(
      7,
      vec([
        [...name('memory'), 0x02, 0],
        [...name('adamw'), 0x00, 0],
      ]),
    ),
    ...section(10, vec([[...uleb(body.length), ...body]])),
  ]);
}

/**
 * The chunked driver as JS source (the body of a function of `instance` and `chunk` returning
 * an AdamwKernel), so that worker threads (parallel-adamw.ts) run the very same code.
 */
export const DRIVER_SOURCE = `
  const adamw = instance.exports.adamw;
  const memory = instance.exports.memory;
  const [P, G, M, V] = [0, 1, 2, 3].map((k) => new Float32Array(memory.buffer, k * chunk * 4, chunk));
  return (w, g, m, v, c) => {
    for (let off = 0; off < w.length; off += chunk) {
      const len = Math.min(chunk, w.length - off);
      const end = off + len;
      P.set(w.subarray(off, end));
      G.set(g.subarray(off, end));
      M.set(m.subarray(off, end));
      V.set(v.subarray(off, end));
      adamw(P.byteOffset, G.byteOffset, M.byteOffset, V.byteOffset, Math.ceil(len / 4) * 4,
        c.beta1, 1 - c.beta1, c.beta2, 1 - c.beta2, c.stepSize, c.invSqrtBc2, c.eps, c.keep, c.gradScale);
      w.set(P.subarray(0, len), off);
      m.set(M.subarray(0, len), off);
      v.set(V.subarray(0, len), off);
    }
  };
`;

export const KERNEL_CHUNK = CHUNK;

export const driverOf = (instance: WebAssembly.Instance, chunk = CHUNK): AdamwKernel =>
  new Function('instance', 'chunk', DRIVER_SOURCE)(instance, chunk) as AdamwKernel;

let compiled: WebAssembly.Module | null | undefined;

/** The compiled kernel module (null where WebAssembly SIMD is unavailable); workers instantiate their own copy. */
export function adamwModule(): WebAssembly.Module | null {
  if (compiled === undefined) {
    try {
      compiled = new WebAssembly.Module(moduleBytes());
    } catch {
      compiled = null;
    }
  }
  return compiled;
}

let cached: AdamwKernel | null | undefined;

export function loadAdamwKernel(): AdamwKernel | null {
  if (cached === undefined) {
    const module = adamwModule();
    cached = module ? driverOf(new WebAssembly.Instance(module)) : null;
  }
  return cached;
}
