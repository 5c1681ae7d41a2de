import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runGraph, runGraphOutputs, randomFloats, maxAbsDiff, type HarnessInput } from './helpers/graph-harness.ts';
import { ContribOps, CONTRIB_KERNELS } from '../src/engine/contrib-ops.ts';
import {
  availableContribKernels,
  kernelLoads,
  parseGraphFlavour,
  requireContribKernels,
} from '../src/engine/graph-flavour.ts';
import { dequantizeBlockwise, quantizeBlockwise, quantizedInitializers } from '../src/engine/block-quantize.ts';
import { CONTRIB_DOMAIN, Graph, type Value } from '../src/engine/graph.ts';
import { Ops } from '../src/engine/ops.ts';
import { gradients } from '../src/engine/autodiff.ts';
import { int64 } from '../src/engine/session.ts';
import { ropeTables } from '../src/models/rope.ts';

const close = (actual: ArrayLike<number>, expected: ArrayLike<number>, tol: number, what: string) => {
  const d = maxAbsDiff(Array.from(actual, Number), expected);
  assert.ok(d <= tol, `${what}: max diff ${d} > ${tol}`);
};

// ---- GroupQueryAttention against attention written out in plain JS ----

interface GqaCase {
  B: number;
  S: number;
  H: number;
  Hkv: number;
  hd: number;
  /** cache capacity */
  C: number;
  /** each row's total length after the step (past = total − S) */
  totals: number[];
  scale?: number;
  softcap?: number;
  window?: number;
  /** (b, s, key column) → masked? */
  hole?: (b: number, s: number, j: number) => boolean;
  /** rotate q/k by RoPE (halves) at each token's position */
  rope?: { cos: Float32Array; sin: Float32Array };
  seed: number;
}

function gqaInputs(c: GqaCase) {
  const { B, S, H, Hkv, hd, C } = c;
  return {
    q: randomFloats(B * S * H * hd, c.seed),
    k: randomFloats(B * S * Hkv * hd, c.seed + 1),
    v: randomFloats(B * S * Hkv * hd, c.seed + 2),
    pastK: randomFloats(B * Hkv * C * hd, c.seed + 3),
    pastV: randomFloats(B * Hkv * C * hd, c.seed + 4),
  };
}

/** Rotates halves of one head vector in place at position p. */
function ropeHalves(x: Float32Array, at: number, hd: number, p: number, t: { cos: Float32Array; sin: Float32Array }) {
  const half = hd / 2;
  for (let i = 0; i < half; i++) {
    const c = t.cos[p * half + i],
      s = t.sin[p * half + i];
    const x1 = x[at + i],
      x2 = x[at + i + half];
    x[at + i] = x1 * c - x2 * s;
    x[at + i + half] = x2 * c + x1 * s;
  }
}

/** softmax(cap(q·kᵀ·scale) + mask)·v per row, head and new token, from the kernel's documented semantics. */
function gqaReference(c: GqaCase, x: ReturnType<typeof gqaInputs>): { out: Float32Array; keys: Float32Array } {
  const { B, S, H, Hkv, hd, C } = c;
  const scale = c.scale ?? 1 / Math.sqrt(hd);
  const q = x.q.slice(),
    k = x.k.slice();
  if (c.rope)
    for (let b = 0; b < B; b++)
      for (let s = 0; s < S; s++) {
        const p = c.totals[b] - S + s;
        for (let h = 0; h < H; h++) ropeHalves(q, ((b * S + s) * H + h) * hd, hd, p, c.rope);
        for (let g = 0; g < Hkv; g++) ropeHalves(k, ((b * S + s) * Hkv + g) * hd, hd, p, c.rope);
      }
  const out = new Float32Array(B * S * H * hd);
  for (let b = 0; b < B; b++) {
    const past = c.totals[b] - S;
    const key = (g: number, j: number, d: number) =>
      j < past ? x.pastK[((b * Hkv + g) * C + j) * hd + d] : k[((b * S + j - past) * Hkv + g) * hd + d];
    const value = (g: number, j: number, d: number) =>
      j < past ? x.pastV[((b * Hkv + g) * C + j) * hd + d] : x.v[((b * S + j - past) * Hkv + g) * hd + d];
    for (let s = 0; s < S; s++)
      for (let h = 0; h < H; h++) {
        const g = Math.floor(h / (H / Hkv));
        const p = past + s;
        const seen: number[] = [];
        const scores: number[] = [];
        for (let j = 0; j <= p; j++) {
          if (c.window !== undefined && p - j >= c.window) continue;
          if (c.hole?.(b, s, j)) continue;
          let dot = 0;
          for (let d = 0; d < hd; d++) dot += q[((b * S + s) * H + h) * hd + d] * key(g, j, d);
          let score = dot * scale;
          if (c.softcap) score = c.softcap * Math.tanh(score / c.softcap);
          seen.push(j);
          scores.push(score);
        }
        const max = Math.max(...scores);
        const w = scores.map((v) => Math.exp(v - max));
        const total = w.reduce((a, v) => a + v, 0);
        for (let d = 0; d < hd; d++)
          out[((b * S + s) * H + h) * hd + d] = seen.reduce((a, j, i) => a + (w[i] / total) * value(g, j, d), 0);
      }
  }
  return { out, keys: k };
}

/** Runs GroupQueryAttention on a case; with `shared`, the present outputs are bound to the past buffers. */
async function runGqa(c: GqaCase, x: ReturnType<typeof gqaInputs>, shared: boolean) {
  const { B, S, H, Hkv, hd, C } = c;
  const inputs: Record<string, HarnessInput> = {
    q: { shape: [B, S, H * hd], data: x.q },
    k: { shape: [B, S, Hkv * hd], data: x.k },
    v: { shape: [B, S, Hkv * hd], data: x.v },
    pastK: { shape: [B, Hkv, C, hd], data: x.pastK },
    pastV: { shape: [B, Hkv, C, hd], data: x.pastV },
    seqlens: { shape: [B], data: Int32Array.from(c.totals, (t) => t - 1) },
    total: { shape: [], data: Int32Array.of(Math.max(...c.totals)) },
  };
  // the bias spans the longest row's total length, not the cache capacity
  const T = Math.max(...c.totals);
  if (c.hole) {
    const bias = new Float32Array(B * S * T);
    for (let b = 0; b < B; b++)
      for (let s = 0; s < S; s++) for (let j = 0; j < T; j++) if (c.hole(b, s, j)) bias[(b * S + s) * T + j] = -1e9;
    inputs.bias = { shape: [B, 1, S, T], data: bias };
  }
  if (c.rope) {
    inputs.cos = { shape: [c.rope.cos.length / (hd / 2), hd / 2], data: c.rope.cos };
    inputs.sin = { shape: [c.rope.sin.length / (hd / 2), hd / 2], data: c.rope.sin };
  }
  const into: Record<string, HarnessInput> = shared
    ? { presentK: { shape: [B, Hkv, C, hd], data: x.pastK }, presentV: { shape: [B, Hkv, C, hd], data: x.pastV } }
    : {};
  return runGraphOutputs(
    inputs,
    (o, v) => {
      const r = new ContribOps(o.g).groupQueryAttention(
        {
          query: v.q,
          key: v.k,
          value: v.v,
          pastKey: v.pastK,
          pastValue: v.pastV,
          seqlensK: v.seqlens,
          totalSequenceLength: v.total,
          attentionBias: v.bias,
          cos: v.cos,
          sin: v.sin,
        },
        {
          numHeads: H,
          numKvHeads: Hkv,
          scale: c.scale,
          softcap: c.softcap,
          slidingWindow: c.window,
          rotary: c.rope ? 'halves' : undefined,
        },
      );
      return { out: r.output, presentK: r.presentKey, presentV: r.presentValue };
    },
    into,
  );
}

const small = { H: 4, Hkv: 2, hd: 8 };

test('GroupQueryAttention decodes over a right-padded cache with per-row lengths, updating a shared buffer in place', async () => {
  const c: GqaCase = { B: 2, S: 1, ...small, C: 8, totals: [3, 6], seed: 40 };
  const x = gqaInputs(c);
  const before = x.pastK.slice();
  const expected = gqaReference(c, x);
  const out = await runGqa(c, x, true);
  close(out.out.data as Float32Array, expected.out, 1e-5, 'output');
  // the kernel wrote each row's new key at its own column and left every other column alone
  for (let b = 0; b < c.B; b++)
    for (let g = 0; g < c.Hkv; g++)
      for (let j = 0; j < c.C; j++) {
        const at = ((b * c.Hkv + g) * c.C + j) * c.hd;
        const want =
          j === c.totals[b] - 1
            ? expected.keys.subarray((b * c.Hkv + g) * c.hd, (b * c.Hkv + g + 1) * c.hd)
            : before.subarray(at, at + c.hd);
        close(x.pastK.subarray(at, at + c.hd), want, 0, `row ${b} head ${g} column ${j}`);
      }
});

test('GroupQueryAttention without a shared buffer returns past + new keys as its present', async () => {
  const c: GqaCase = { B: 2, S: 1, ...small, C: 8, totals: [3, 6], seed: 50 };
  const x = gqaInputs(c);
  const out = await runGqa(c, x, false);
  close(out.out.data as Float32Array, gqaReference(c, x).out, 1e-5, 'output');
  const present = out.presentK.data as Float32Array;
  assert.deepEqual([...out.presentK.dims], [c.B, c.Hkv, c.C, c.hd]);
  for (let b = 0; b < c.B; b++)
    for (let j = 0; j < c.totals[b] - 1; j++) {
      const at = ((b * c.Hkv + 1) * c.C + j) * c.hd;
      close(present.subarray(at, at + c.hd), x.pastK.subarray(at, at + c.hd), 0, `past column ${j} of row ${b}`);
    }
});

test('GroupQueryAttention prefill is causal; a chunk appended to one row sees its past', async () => {
  const prompt: GqaCase = { B: 2, S: 5, ...small, C: 0, totals: [5, 5], seed: 60 };
  const x = gqaInputs(prompt);
  close((await runGqa(prompt, x, false)).out.data as Float32Array, gqaReference(prompt, x).out, 1e-5, 'prefill');
  const chunk: GqaCase = { B: 1, S: 3, ...small, C: 16, totals: [9], seed: 61 };
  const y = gqaInputs(chunk);
  close((await runGqa(chunk, y, true)).out.data as Float32Array, gqaReference(chunk, y).out, 1e-5, 'chunk');
});

test('GroupQueryAttention: attention_bias masks holes, the sliding window and soft-capping match their definitions', async () => {
  const holes: GqaCase = {
    B: 2,
    S: 1,
    ...small,
    C: 8,
    totals: [5, 7],
    hole: (b, _s, j) => (b === 0 && (j === 1 || j === 2)) || (b === 1 && j === 0),
    seed: 70,
  };
  const h = gqaInputs(holes);
  close((await runGqa(holes, h, true)).out.data as Float32Array, gqaReference(holes, h).out, 1e-5, 'holes');

  for (const window of [1, 3]) {
    const decode: GqaCase = { B: 2, S: 1, ...small, C: 8, totals: [4, 8], window, seed: 80 + window };
    const d = gqaInputs(decode);
    close(
      (await runGqa(decode, d, true)).out.data as Float32Array,
      gqaReference(decode, d).out,
      1e-5,
      `window ${window}`,
    );
    const prompt: GqaCase = { B: 1, S: 6, ...small, C: 0, totals: [6], window, seed: 90 + window };
    const p = gqaInputs(prompt);
    close(
      (await runGqa(prompt, p, false)).out.data as Float32Array,
      gqaReference(prompt, p).out,
      1e-5,
      'window prefill',
    );
  }

  const capped: GqaCase = { B: 2, S: 1, ...small, C: 8, totals: [4, 6], softcap: 0.5, scale: 2, seed: 100 };
  const s = gqaInputs(capped);
  close((await runGqa(capped, s, true)).out.data as Float32Array, gqaReference(capped, s).out, 1e-5, 'softcap');
});

test('GroupQueryAttention rotates q and k in the kernel at each row position', async () => {
  const [hd, maxPos] = [16, 16];
  const tables = ropeTables(maxPos, hd, { theta: 10000, scaling: null }, 'half');
  const c: GqaCase = { B: 2, S: 1, H: 2, Hkv: 1, hd, C: 8, totals: [2, 7], rope: tables, seed: 110 };
  const x = gqaInputs(c);
  const expected = gqaReference(c, x);
  close((await runGqa(c, x, true)).out.data as Float32Array, expected.out, 1e-5, 'rotary');
  const at = ((1 * c.Hkv + 0) * c.C + 6) * hd;
  close(x.pastK.subarray(at, at + hd), expected.keys.subarray(hd, 2 * hd), 1e-6, 'rotated key stored');
});

// ---- the other kernels ----

test('contrib RotaryEmbedding rotates halves or interleaved pairs at the given positions', async () => {
  const [S, H, hd, maxPos] = [3, 2, 8, 8];
  const x = randomFloats(S * H * hd, 120);
  const positions = [5, 0, 7];
  const tables = ropeTables(maxPos, hd, { theta: 10000, scaling: null }, 'half');
  for (const layout of ['halves', 'interleaved'] as const) {
    const expected = x.slice();
    for (let s = 0; s < S; s++)
      for (let h = 0; h < H; h++)
        for (let i = 0; i < hd / 2; i++) {
          const base = (s * H + h) * hd;
          const [a, b] = layout === 'halves' ? [base + i, base + i + hd / 2] : [base + 2 * i, base + 2 * i + 1];
          const [cos, sin] = [tables.cos[(positions[s] * hd) / 2 + i], tables.sin[(positions[s] * hd) / 2 + i]];
          expected[a] = x[a] * cos - x[b] * sin;
          expected[b] = x[b] * cos + x[a] * sin;
        }
    const out = await runGraph(
      { x: { shape: [1, S, H * hd], data: x }, pos: { shape: [1, S], data: int64(positions) } },
      (o, v) => {
        const cos = o.g.tensor('cos', 'float32', [maxPos, hd / 2], tables.cos);
        const sin = o.g.tensor('sin', 'float32', [maxPos, hd / 2], tables.sin);
        return new ContribOps(o.g).rotaryEmbedding(v.x, v.pos, cos, sin, H, layout);
      },
    );
    close(out.data as Float32Array, expected, 1e-5, layout);
  }
});

test('SimplifiedLayerNormalization and SkipSimplifiedLayerNormalization are RMSNorm (after the residual add)', async () => {
  const D = 12,
    rows = 5,
    eps = 1e-5;
  const x = randomFloats(rows * D, 130);
  const skip = randomFloats(rows * D, 131);
  const w = randomFloats(D, 132);
  const sum = Float32Array.from(x, (v, i) => v + skip[i]);
  const rms = (a: Float32Array) =>
    Float32Array.from(a, (v, i) => {
      const r = Math.floor(i / D);
      let ms = 0;
      for (let j = 0; j < D; j++) ms += a[r * D + j] ** 2;
      return (v / Math.sqrt(ms / D + eps)) * w[i % D];
    });
  const inputs = {
    x: { shape: [rows, D], data: x },
    skip: { shape: [rows, D], data: skip },
    w: { shape: [D], data: w },
  };
  const out = await runGraphOutputs(inputs, (o, v) => {
    const c = new ContribOps(o.g);
    const fused = c.skipSimplifiedLayerNorm(v.x, v.skip, v.w, eps);
    return { plain: c.simplifiedLayerNorm(v.x, v.w, eps), normed: fused.normed, sum: fused.sum };
  });
  close(out.plain.data as Float32Array, rms(x), 1e-5, 'SimplifiedLayerNormalization');
  close(out.normed.data as Float32Array, rms(sum), 1e-5, 'SkipSimplifiedLayerNormalization');
  close(out.sum.data as Float32Array, sum, 1e-6, 'residual sum');
});

test('MatMulNBits (4 and 8 bits, block 32) equals dequantize-then-matmul; quantization error ≤ scale/2', async () => {
  const N = 12,
    M = 3;
  for (const K of [64, 80]) {
    const weight = randomFloats(N * K, 140 + K); // HF layout [out, in]
    const x = randomFloats(M * K, 141 + K);
    for (const bits of [4, 8] as const) {
      const q = quantizeBlockwise(weight, N, K, bits, 32);
      const deq = dequantizeBlockwise(q);
      weight.forEach((w, i) => {
        const scale = q.scales[Math.floor(i / K) * Math.ceil(K / 32) + Math.floor((i % K) / 32)];
        assert.ok(Math.abs(deq[i] - w) <= scale / 2 + 1e-6, `weight ${i}: ${deq[i]} vs ${w} (scale ${scale})`);
      });
      const expected = new Float32Array(M * N);
      for (let m = 0; m < M; m++)
        for (let n = 0; n < N; n++) {
          let s = 0;
          for (let k = 0; k < K; k++) s += x[m * K + k] * deq[n * K + k];
          expected[m * N + n] = s;
        }
      const out = await runGraph({ x: { shape: [M, K], data: x } }, (o, v) =>
        new ContribOps(o.g).matMulNBits(v.x, quantizedInitializers(o.g, 'w', q)),
      );
      assert.deepEqual([...out.dims], [M, N]);
      close(out.data as Float32Array, expected, 1e-4, `K ${K}, ${bits} bits`);
    }
  }
});

test('FastGelu is the tanh GELU and QuickGelu is x·sigmoid(αx)', async () => {
  const x = { shape: [4, 6], data: randomFloats(24, 150, 2) };
  const gelu = (a: number) => 0.5 * a * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (a + 0.044715 * a ** 3)));
  close(
    (await runGraph({ x }, (o, v) => new ContribOps(o.g).fastGelu(v.x))).data as Float32Array,
    Array.from(x.data, gelu),
    1e-5,
    'FastGelu',
  );
  for (const alpha of [1, 1.702])
    close(
      (await runGraph({ x }, (o, v) => new ContribOps(o.g).quickGelu(v.x, alpha))).data as Float32Array,
      Array.from(x.data, (a) => a / (1 + Math.exp(-alpha * a))),
      1e-5,
      `QuickGelu ${alpha}`,
    );
});

test('autodiff refuses contrib kernels: training graphs stay standard', () => {
  const g = new Graph('t');
  const o = new Ops(g);
  const x = g.input('x', 'float32', [2]);
  const y = o.reduceSum(new ContribOps(g).quickGelu(x, 1), [0]);
  assert.throws(() => gradients(o, y, [x]), /no gradient rule for QuickGelu/);
});

test('graph flavours: an unknown flavour or a kernel this build lacks is refused in one line naming what is available', async () => {
  assert.equal(parseGraphFlavour('contrib'), 'contrib');
  assert.throws(
    () => parseGraphFlavour('fast'),
    /^AlignkitError: field "--graph-flavour": unknown graph flavour "fast" \(available: standard, contrib\)$/,
  );
  // this build has every kernel the engine builds; a model with an unregistered one does not load
  assert.deepEqual(await availableContribKernels(), [...CONTRIB_KERNELS]);
  const unregistered = (g: Graph, _c: ContribOps, x: Value) =>
    g.node('NoSuchKernel', [x], {}, [{ dtype: 'float32', shape: [...x.shape] }], CONTRIB_DOMAIN)[0];
  assert.equal(await kernelLoads(unregistered), false);
  await requireContribKernels(['GroupQueryAttention', 'MatMulNBits']);
  // a build without MatMulNBits (the list is injected: this one has it)
  await assert.rejects(
    requireContribKernels(['MatMulNBits'], { field: '--graph-flavour' }, ['GroupQueryAttention', 'RotaryEmbedding']),
    (e: Error) =>
      e.message ===
      'field "--graph-flavour": this onnxruntime build lacks the contrib kernel MatMulNBits (available: GroupQueryAttention, RotaryEmbedding; the standard graph flavour needs none)',
  );
  await assert.rejects(
    requireContribKernels(['FlashAttention']),
    /unknown contrib kernel FlashAttention \(available: GroupQueryAttention, /,
  );
});
