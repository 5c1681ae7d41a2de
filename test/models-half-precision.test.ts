import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  bfloat16ToFloat32,
  float16ToFloat32,
  float32ToBfloat16,
  float32ToFloat16,
} from '../src/util/half-precision.ts';
import { createRng } from '../src/util/random.ts';

const f16 = (x: number) => float32ToFloat16(Float32Array.of(x))[0];
const fromF16 = (bits: number) => float16ToFloat32(Uint16Array.of(bits))[0];
const bf16 = (x: number) => float32ToBfloat16(Float32Array.of(x))[0];

test('float16 known encodings', () => {
  const cases: [number, number][] = [
    [1, 0x3c00],
    [-2, 0xc000],
    [0.5, 0x3800],
    [65504, 0x7bff],
    [2 ** -14, 0x0400],
    [2 ** -24, 0x0001],
    [0, 0x0000],
    [-0, 0x8000],
    [Infinity, 0x7c00],
    [-Infinity, 0xfc00],
    [1e6, 0x7c00],
    [65520, 0x7c00],
    [2 ** -26, 0x0000],
    [0.1, 0x2e66],
    [1 / 3, 0x3555],
  ];
  for (const [value, bits] of cases) {
    assert.equal(f16(value), bits, `encode ${value}`);
    if (Number.isFinite(value) && Math.abs(value) < 65520 && bits !== 0 && bits !== 0x8000) {
      assert.ok(Math.abs(fromF16(bits) - value) <= Math.abs(value) * 2 ** -11, `decode 0x${bits.toString(16)}`);
    }
  }
  assert.ok(Number.isNaN(fromF16(f16(NaN))));
});

test('every float16 value survives float16 -> float32 -> float16', () => {
  const all = new Uint16Array(65536).map((_, i) => i);
  const back = float32ToFloat16(float16ToFloat32(all));
  for (let i = 0; i < 65536; i++) {
    const isNaN16 = (i & 0x7c00) === 0x7c00 && (i & 0x3ff) !== 0;
    if (isNaN16) assert.ok((back[i] & 0x7c00) === 0x7c00 && (back[i] & 0x3ff) !== 0);
    else assert.equal(back[i], i, `0x${i.toString(16)}`);
  }
});

test('float32 -> float16 rounds to the nearest value, ties to even', () => {
  const table = float16ToFloat32(new Uint16Array(0x7c00).map((_, i) => i)); // the non-negative finite values
  const rng = createRng(5);
  for (let n = 0; n < 20000; n++) {
    const x = Math.fround(Math.exp(rng.next() * 24 - 18)); // 1.5e-8 .. 4e2: subnormals and normals
    const bits = f16(x);
    const r = table[bits];
    const below = bits > 0 ? table[bits - 1] : -Infinity;
    const above = bits < 0x7bff ? table[bits + 1] : Infinity;
    assert.ok(Math.abs(x - r) <= Math.abs(x - below) && Math.abs(x - r) <= Math.abs(x - above), `${x} -> ${r}`);
    assert.equal(f16(-x), bits | 0x8000);
  }
  // exact midpoints go to the even neighbour
  assert.equal(f16(1 + 2 ** -11), 0x3c00);
  assert.equal(f16(1 + 3 * 2 ** -11), 0x3c02);
  assert.equal(f16(2 ** -25), 0x0000);
  assert.equal(f16(3 * 2 ** -25), 0x0002);
});

test('bfloat16 is the top half of float32, rounded to nearest even', () => {
  assert.equal(bf16(1), 0x3f80);
  assert.equal(bf16(-2), 0xc000);
  assert.equal(bf16(1 + 2 ** -8), 0x3f80); // tie -> even
  assert.equal(bf16(1 + 3 * 2 ** -8), 0x3f82); // tie -> even (up)
  assert.equal(bf16(1 + 2 ** -8 + 2 ** -20), 0x3f81);
  assert.equal(bf16(Infinity), 0x7f80);
  assert.ok(Number.isNaN(bfloat16ToFloat32(Uint16Array.of(bf16(NaN)))[0]));
  const all = new Uint16Array(65536).map((_, i) => i);
  const back = float32ToBfloat16(bfloat16ToFloat32(all));
  for (let i = 0; i < 65536; i++) {
    if ((i & 0x7f80) === 0x7f80 && (i & 0x7f) !== 0) continue; // NaNs keep NaN-ness, not payload
    assert.equal(back[i], i);
  }
});
