/**
 * GGUF reading and writing: block decoding against blocks packed by hand from the ggml layouts,
 * the reference quantizers, metadata and tensor round trips, model round trips for every
 * architecture in the table, and the bad inputs of issue 17 (each one error naming the file and
 * the key or tensor, nothing read past the end).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dequantize } from '../src/models/gguf/dequantize.ts';
import { quantize } from '../src/models/gguf/quantize.ts';
import { toBlockQuantized } from '../src/models/gguf/quantized-blocks.ts';
import { codeAt, dequantizeBlockwise, zeroPointOf } from '../src/engine/block-quantize.ts';
import { GgufFile, GgufValueType, isGgufFile } from '../src/models/gguf/gguf-file.ts';
import { gguf, writeGgufFile } from '../src/models/gguf/gguf-writer.ts';
import { readGgufModel, writeGgufModel, type GgufPrecision } from '../src/models/gguf/gguf-model.ts';
import { rewriteMetadata, toyVocabulary } from './helpers/gguf-files.ts';
import { float16ToFloat32, float32ToFloat16 } from '../src/util/half-precision.ts';
import { readLocalCheckpoint } from '../src/lm/load.ts';
import { saveGguf } from '../src/lm/save-gguf.ts';
import type { ModelConfig } from '../src/models/config.ts';
import type { Weights } from '../src/models/weights.ts';
import { randomGpt2Config, randomLlamaConfig, randomWeights } from './helpers/random-models.ts';
import { assertNamedError } from './helpers/named-error.ts';
import { TINYSTORIES } from './helpers/stories-data.ts';
import { ALIGNKIT } from './helpers/alignkit-cli.ts';
import { trainByteLevelBpe } from '../src/tokenizers/bpe-trainer.ts';
import { saveTokenizer } from '../src/tokenizers/save-tokenizer.ts';
import { HfTokenizer } from '../src/tokenizers/hf-tokenizer.ts';
import { saveCheckpoint } from '../src/lm/save-checkpoint.ts';

const STORIES260K = 'data/stories260K/stories260K.bin';
const TOK512 = 'data/stories260K/tok512.bin';

const tmp = () => mkdtempSync(join(tmpdir(), 'alignkit-gguf-'));

/** A deterministic generator of small integers and floats. */
function rng(seed: number) {
  let s = seed >>> 0;
  const next = () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
  return { int: (n: number) => Math.floor(next() * n), float: () => next() * 2 - 1 };
}

/** A float16 scale and its exact value. */
function halfScale(x: number): { bits: number; value: number } {
  const bits = float32ToFloat16(Float32Array.of(x))[0];
  return { bits, value: float16ToFloat32(Uint16Array.of(bits))[0] };
}

const putHalf = (b: Uint8Array, at: number, bits: number) => {
  b[at] = bits & 0xff;
  b[at + 1] = bits >> 8;
};

test('Q8_0, Q4_0, Q4_1, Q5_0, Q5_1 blocks packed by hand decode to scale·(q − zero) + min', () => {
  const r = rng(1);
  const d = halfScale(0.0371);
  const m = halfScale(-0.52);
  const q = Array.from({ length: 32 }, () => r.int(32)); // 5-bit quants; 4-bit types use q & 15
  const cases = {
    Q8_0: {
      bytes: 34,
      pack: (b: Uint8Array) => q.forEach((v, j) => (b[2 + j] = (v - 16) & 0xff)),
      x: (j: number) => (q[j] - 16) * d.value,
    },
    Q4_0: {
      bytes: 18,
      pack: (b: Uint8Array) =>
        nibbles(
          b,
          2,
          q.map((v) => v & 15),
        ),
      x: (j: number) => ((q[j] & 15) - 8) * d.value,
    },
    Q4_1: {
      bytes: 20,
      pack: (b: Uint8Array) => (
        putHalf(b, 2, m.bits),
        nibbles(
          b,
          4,
          q.map((v) => v & 15),
        )
      ),
      x: (j: number) => (q[j] & 15) * d.value + m.value,
    },
    Q5_0: {
      bytes: 22,
      pack: (b: Uint8Array) => (
        highBits(b, 2, q),
        nibbles(
          b,
          6,
          q.map((v) => v & 15),
        )
      ),
      x: (j: number) => (q[j] - 16) * d.value,
    },
    Q5_1: {
      bytes: 24,
      pack: (b: Uint8Array) => (
        putHalf(b, 2, m.bits),
        highBits(b, 4, q),
        nibbles(
          b,
          8,
          q.map((v) => v & 15),
        )
      ),
      x: (j: number) => q[j] * d.value + m.value,
    },
  } as const;
  for (const [type, c] of Object.entries(cases)) {
    const block = new Uint8Array(c.bytes);
    putHalf(block, 0, d.bits);
    c.pack(block);
    const got = dequantize(type as keyof typeof cases, block, 32);
    for (let j = 0; j < 32; j++) assert.equal(got[j], Math.fround(c.x(j)), `${type}[${j}]`);
  }
});

/** ggml packs value j in the low nibble of byte j and value j+16 in its high nibble. */
function nibbles(b: Uint8Array, at: number, q: number[]) {
  for (let j = 0; j < 16; j++) b[at + j] = q[j] | (q[j + 16] << 4);
}
/** The 5th bits, value j at bit j of a little-endian uint32. */
function highBits(b: Uint8Array, at: number, q: number[]) {
  let h = 0;
  q.forEach((v, j) => (h |= (v >> 4) << j));
  new DataView(b.buffer).setUint32(at, h >>> 0, true);
}

/** The inverse of get_scale_min_k4: eight 6-bit scales and mins into 12 bytes. */
function packScalesMins(sc: number[], mn: number[]): Uint8Array {
  const b = new Uint8Array(12);
  for (let j = 0; j < 4; j++) {
    b[j] = sc[j] | ((sc[j + 4] >> 4) << 6);
    b[j + 4] = mn[j] | ((mn[j + 4] >> 4) << 6);
    b[j + 8] = (sc[j + 4] & 15) | ((mn[j + 4] & 15) << 4);
  }
  return b;
}

test('Q4_K and Q5_K super-blocks packed by hand decode to d·scale·q − dmin·min per 32-value sub-block', () => {
  const r = rng(2);
  const d = halfScale(0.0123);
  const dmin = halfScale(0.0071);
  const sc = Array.from({ length: 8 }, () => r.int(64));
  const mn = Array.from({ length: 8 }, () => r.int(64));
  const q = Array.from({ length: 256 }, () => r.int(32));
  for (const fiveBits of [false, true]) {
    const block = new Uint8Array(fiveBits ? 176 : 144);
    putHalf(block, 0, d.bits);
    putHalf(block, 2, dmin.bits);
    block.set(packScalesMins(sc, mn), 4);
    const qs = fiveBits ? 48 : 16;
    for (let i = 0; i < 256; i++) {
      const sub = i >> 5;
      const l = i & 31;
      block[qs + 32 * (sub >> 1) + l] |= (q[i] & 15) << ((sub & 1) * 4); // pairs of sub-blocks share 32 bytes
      if (fiveBits) block[16 + l] |= (q[i] >> 4) << sub; // qh: bit `sub` of byte l
    }
    const got = dequantize(fiveBits ? 'Q5_K' : 'Q4_K', block, 256);
    for (let i = 0; i < 256; i++) {
      const quant = fiveBits ? q[i] : q[i] & 15;
      const sub = i >> 5;
      assert.equal(
        got[i],
        Math.fround(d.value * sc[sub] * quant - dmin.value * mn[sub]),
        `${fiveBits ? 'Q5_K' : 'Q4_K'}[${i}]`,
      );
    }
  }
});

test('Q6_K super-blocks packed by hand decode to d·scale·(q − 32) per 16-value group', () => {
  const r = rng(3);
  const d = halfScale(0.0042);
  const scales = Array.from({ length: 16 }, () => r.int(256) - 128);
  const q = Array.from({ length: 256 }, () => r.int(64));
  const block = new Uint8Array(210);
  // value i: half n = i / 128; within it, position p = i % 128 = 32·k + l (k = 0..3)
  for (let i = 0; i < 256; i++) {
    const n = i >> 7;
    const k = (i & 127) >> 5;
    const l = i & 31;
    const low = 64 * n + l + (k & 1) * 32; // ql: k 0/1 low nibbles of bytes l / l+32, k 2/3 high nibbles
    block[low] |= (q[i] & 15) << (k >> 1 ? 4 : 0);
    block[128 + 32 * n + l] |= (q[i] >> 4) << (2 * k); // qh: 2 bits per k
  }
  scales.forEach((s, j) => (block[192 + j] = s & 0xff));
  putHalf(block, 208, d.bits);
  const got = dequantize('Q6_K', block, 256);
  for (let i = 0; i < 256; i++) {
    const group = 8 * (i >> 7) + ((i & 127) >> 4); // 16-value groups in order
    assert.equal(got[i], Math.fround(d.value * scales[group] * (q[i] - 32)), `Q6_K[${i}]`);
  }
});

test('F16 and BF16 tensors decode bit-exactly', () => {
  const bits = Uint16Array.of(0x3c00, 0xc000, 0x0001, 0x7bff);
  assert.deepEqual([...dequantize('F16', new Uint8Array(bits.buffer), 4)], [1, -2, 2 ** -24, 65504]);
  assert.deepEqual([...dequantize('BF16', new Uint8Array(Uint16Array.of(0x3f80, 0xc040).buffer), 2)], [1, -3]);
});

test('the Q8_0 and Q4_0 quantizers follow ggml: exact on representable blocks, within half a step otherwise', () => {
  // representable: q·d with d = max|x|/127 (Q8_0) or max/−8 (Q4_0) and d a float16
  const d8 = 0.5;
  const exact8 = Float32Array.from({ length: 32 }, (_, j) => (j === 0 ? 127 : ((j * 7) % 255) - 127) * d8);
  assert.deepEqual(dequantize('Q8_0', quantize('Q8_0', exact8), 32), exact8);
  const exact4 = Float32Array.from({ length: 32 }, (_, j) => (j === 0 ? -8 : (j % 16) - 8) * 0.25);
  assert.deepEqual(dequantize('Q4_0', quantize('Q4_0', exact4), 32), exact4);
  // Q4_0 maps the value of largest magnitude to −8 exactly (its sign chooses the scale's)
  const r = rng(4);
  const x = Float32Array.from({ length: 32 * 64 }, () => r.float());
  for (const type of ['Q8_0', 'Q4_0'] as const) {
    const bytes = quantize(type, x);
    const back = dequantize(type, bytes, x.length);
    const blocks = toBlockQuantized(type, bytes, [64, 32]);
    for (let b = 0; b < 64; b++) {
      const step = Math.abs(blocks.scales[b]);
      for (let j = 0; j < 32; j++) {
        const i = b * 32 + j;
        // half a step, plus float16 rounding of the scale (relative 2^-11 of up to 127 steps); Q4_0 clamps
        // +8 steps (opposite in sign to the largest value) to 7, a whole step
        const allowed = type === 'Q4_0' ? 1 : 0.5 + 127 * 2 ** -11;
        assert.ok(Math.abs(back[i] - x[i]) <= step * allowed + 1e-7, `${type} value ${i}`);
      }
    }
    assert.deepEqual(dequantizeBlockwise(blocks), back, `${type} blocks decode like the file`);
  }
});

test('Q4_0 / Q8_0 as engine blocks: unsigned codes in MatMulNBits order, per-block scales, the default zero point', () => {
  const x = Float32Array.from({ length: 64 }, (_, i) => ((i % 16) - 8) * (i < 32 ? 0.5 : 0.25));
  x[0] = -8 * 0.5;
  x[32] = -8 * 0.25;
  const blocks = toBlockQuantized('Q4_0', quantize('Q4_0', x), [2, 32]);
  assert.deepEqual(
    [blocks.bits, zeroPointOf(blocks, 0, 0), blocks.zeroPoints, [...blocks.scales]],
    [4, 8, undefined, [0.5, 0.25]],
  );
  // value i sits in byte i/2, even i in the low nibble
  assert.deepEqual(
    Array.from({ length: 32 }, (_, i) => codeAt(blocks, 0, i)),
    [...Array(16).keys(), ...Array(16).keys()],
  );
  assert.deepEqual([...blocks.data.slice(0, 2)], [0x10, 0x32]);
  const q8 = toBlockQuantized(
    'Q8_0',
    quantize(
      'Q8_0',
      Float32Array.from({ length: 32 }, (_, i) => i - 16),
    ),
    [1, 32],
  );
  assert.equal(zeroPointOf(q8, 0, 0), 128);
  assert.equal(q8.data[0] - 128, -127); // −16 is the largest magnitude: q = −127
});

test('metadata of every value type and tensors of every written type round-trip through a file', () => {
  const dir = tmp();
  try {
    const file = join(dir, 'all.gguf');
    const metadata = new Map([
      ['general.architecture', gguf.string('llama')],
      ['a.u32', gguf.u32(4_000_000_000)],
      ['a.i32', gguf.i32(-5)],
      ['a.f32', gguf.f32(0.25)],
      ['a.bool', gguf.bool(true)],
      ['a.strings', gguf.strings(['▁the', '<0x0A>', ''])],
      ['a.f32s', gguf.f32s([1.5, -2])],
      ['a.u64', { type: GgufValueType.UINT64, value: 2 ** 40 }],
    ] as const);
    const r = rng(5);
    const values = Float32Array.from({ length: 64 * 3 }, () => r.float());
    const types = ['F32', 'F16', 'Q8_0', 'Q4_0'] as const;
    writeGgufFile(
      file,
      new Map(metadata as unknown as [string, never][]),
      types.map((type) => ({
        name: `t.${type}`,
        dims: [64, 3],
        type,
        encode: () =>
          type === 'F32'
            ? new Uint8Array(values.buffer)
            : type === 'F16'
              ? new Uint8Array(float32ToFloat16(values).buffer)
              : quantize(type, values),
      })),
    );
    assert.ok(isGgufFile(file));
    const g = GgufFile.open(file);
    try {
      assert.equal(g.version, 3);
      assert.equal(g.count('a.u32'), 4_000_000_000);
      assert.equal(g.number('a.i32'), -5);
      assert.equal(g.number('a.f32'), 0.25);
      assert.equal(g.boolean('a.bool', null), true);
      assert.deepEqual(g.stringArray('a.strings'), ['▁the', '<0x0A>', '']);
      assert.deepEqual(Array.from(g.numberArray('a.f32s', true)!), [1.5, -2]);
      assert.equal(g.count('a.u64'), 2 ** 40);
      for (const type of types) {
        const t = g.tensor(`t.${type}`);
        assert.deepEqual([t.type, t.shape, (t.byteOffset - g.dataOffset) % 32], [type, [3, 64], 0]);
      }
      assert.deepEqual(g.readFloat32('t.F32'), values);
      assert.deepEqual(g.readFloat32('t.F16'), float16ToFloat32(float32ToFloat16(values)));
      assert.deepEqual(g.readFloat32('t.Q8_0'), dequantize('Q8_0', quantize('Q8_0', values), values.length));
    } finally {
      g.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

function roundTrip(config: ModelConfig, weights: Weights, precision: GgufPrecision = 'f32') {
  const dir = tmp();
  try {
    const file = join(dir, 'model.gguf');
    const written = writeGgufModel(file, config, weights, {
      precision,
      vocabulary: toyVocabulary(config.vocabSize, config.bosTokenId!, config.eosTokenId as number),
    });
    return { written, read: readGgufModel(file) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const MODELS: [string, ModelConfig][] = [
  ['llama (GQA, untied)', randomLlamaConfig({ hiddenSize: 64, numHeads: 4, numKvHeads: 2, intermediateSize: 96 })],
  [
    'llama with attention biases, tied',
    randomLlamaConfig({ hiddenSize: 64, attentionBias: true, tieWordEmbeddings: true }),
  ],
  ['llama with head_dim ≠ hidden / heads', randomLlamaConfig({ hiddenSize: 64, numHeads: 4, headDim: 32 })],
  ['qwen2', randomLlamaConfig({ family: 'qwen2', hiddenSize: 64 })],
  ['gpt2', randomGpt2Config({ hiddenSize: 64 })],
];

for (const [label, config] of MODELS) {
  test(`${label}: config and float32 weights round-trip through GGUF exactly`, () => {
    const weights = randomWeights(config, 7);
    const { read } = roundTrip(config, weights);
    assert.deepEqual({ ...read.config, torchDtype: config.torchDtype }, config);
    assert.deepEqual([...read.weights.keys()].sort(), [...weights.keys()].sort());
    for (const [name, t] of weights) {
      assert.deepEqual(read.weights.get(name)!.shape, t.shape, name);
      assert.deepEqual(read.weights.get(name)!.data, t.data, name);
    }
  });
}

test('the llama layout permutes q/k rows to interleaved pairs on disk, as llama.cpp expects', () => {
  const config = randomLlamaConfig({ hiddenSize: 32, numHeads: 2, numKvHeads: 2, numLayers: 1 });
  const weights = randomWeights(config, 3);
  const dir = tmp();
  try {
    const file = join(dir, 'm.gguf');
    writeGgufModel(file, config, weights, { precision: 'f32', vocabulary: toyVocabulary(config.vocabSize) });
    const g = GgufFile.open(file);
    const onDisk = g.readFloat32('blk.0.attn_q.weight');
    g.close();
    const hf = weights.get('model.layers.0.self_attn.q_proj.weight')!.data;
    // head 0, pair 1: disk rows 2 and 3 are HF rows 1 and 1 + head_dim/2
    const row = (data: Float32Array, r: number) => [...data.subarray(r * 32, r * 32 + 32)];
    assert.deepEqual(row(onDisk, 2), row(hf, 1));
    assert.deepEqual(row(onDisk, 3), row(hf, 9));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('q8_0 / q4_0 files: which tensors are quantized, and the weights read back within a quantization step', () => {
  const config = randomLlamaConfig({ hiddenSize: 64, intermediateSize: 80 }); // ffn_down rows of 80: not whole blocks
  const weights = randomWeights(config, 9);
  const q8 = roundTrip(config, weights, 'q8_0');
  assert.deepEqual(q8.written.storedTypes, { F32: 5, Q8_0: 14, F16: 2 });
  const q4 = roundTrip(config, weights, 'q4_0');
  assert.deepEqual(q4.written.storedTypes, { F32: 5, Q8_0: 2, Q4_0: 12, F16: 2 });
  assert.deepEqual(q4.read.storedTypes, { F32: 5, Q8_0: 2, Q4_0: 12, F16: 2 });
  for (const [label, read, tolerance] of [
    ['q8_0', q8.read, 0.2 / 127],
    ['q4_0', q4.read, 0.2 / 8],
  ] as const) {
    for (const [name, t] of weights) {
      const got = read.weights.get(name)!.data;
      let max = 0;
      for (let i = 0; i < got.length; i++) max = Math.max(max, Math.abs(got[i] - t.data[i]));
      assert.ok(max <= tolerance, `${label} ${name}: max |Δ| ${max}`);
    }
  }
});

test('stories260K (llama2.c) -> GGUF -> alignkit: the same weights and tokenizer as the original', () => {
  const dir = tmp();
  try {
    const original = readLocalCheckpoint(STORIES260K, TOK512);
    const file = join(dir, 's.gguf');
    saveGguf(file, original, 'f32');
    const read = readLocalCheckpoint(file);
    assert.match(read.notes!.join(), /GGUF llama \(LlamaForCausalLM\): 47 F32 tensors/);
    assert.deepEqual({ ...read.config, torchDtype: original.config.torchDtype }, original.config);
    for (const [name, t] of original.weights) assert.deepEqual(read.weights.get(name)!.data, t.data, name);
    const texts = readFileSync(TINYSTORIES, 'utf8').split('\n').filter(Boolean).slice(0, 60);
    texts.push('Tom said, "Wow! 3 €s é中😀"\n\n  x');
    for (const text of texts) {
      assert.deepEqual(read.tokenizer.encode(text), original.tokenizer.encode(text), text.slice(0, 40));
      const ids = original.tokenizer.encode(text);
      assert.equal(read.tokenizer.decode(ids), original.tokenizer.decode(ids));
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a byte-level BPE model (HF directory) -> GGUF -> alignkit: same weights and tokenizer, chat fields kept', () => {
  const dir = tmp();
  try {
    // a BPE tokenizer trained on the TinyStories sample, under a random llama
    const bpe = trainByteLevelBpe(readFileSync(TINYSTORIES, 'utf8'), { vocabSize: 512, addBos: true });
    saveTokenizer({ tokenizerJson: bpe.tokenizerJson, tokenizerConfig: bpe.tokenizerConfig }, join(dir, 'tokenizer'));
    const tokenizer = HfTokenizer.fromDirectory(join(dir, 'tokenizer'));
    const config = {
      ...randomLlamaConfig({ vocabSize: 512, tieWordEmbeddings: true }),
      bosTokenId: tokenizer.bosId,
      eosTokenId: tokenizer.eosId,
    };
    saveCheckpoint(join(dir, 'bpe-model'), config, randomWeights(config, 3), tokenizer);
    const original = readLocalCheckpoint(join(dir, 'bpe-model'));
    const file = join(dir, 'small.gguf');
    saveGguf(file, original, 'f32');
    const g = GgufFile.open(file);
    assert.deepEqual([g.string('tokenizer.ggml.model'), g.string('tokenizer.ggml.pre')], ['gpt2', 'gpt-2']);
    g.close();
    const read = readLocalCheckpoint(file);
    for (const [name, t] of original.weights) assert.deepEqual(read.weights.get(name)!.data, t.data, name);
    const tok = read.tokenizer;
    assert.deepEqual(
      [tok.bosId, tok.eosId, tok.padId],
      [original.tokenizer.bosId, original.tokenizer.eosId, original.tokenizer.padId],
    );
    for (const text of readFileSync(TINYSTORIES, 'utf8').split('\n').filter(Boolean).slice(0, 60)) {
      assert.deepEqual(tok.encode(text), original.tokenizer.encode(text));
      assert.equal(tok.decode(original.tokenizer.encode(text)), text);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** A small valid GGUF model file to break in the tests below. */
function goodFile(dir: string): string {
  const config = randomLlamaConfig({ hiddenSize: 32, numLayers: 1, vocabSize: 40 });
  const file = join(dir, 'good.gguf');
  writeGgufModel(file, config, randomWeights(config, 1), { precision: 'q8_0', vocabulary: toyVocabulary(40) });
  return file;
}

/** Rewrites `file` with its metadata edited (or tensors' info patched) through the writer. */
test('bad GGUF files: one error naming the file and the key or tensor, never a read past the end', () => {
  const dir = tmp();
  try {
    const file = goodFile(dir);
    const bytes = readFileSync(file);
    const g = GgufFile.open(file);
    const dataOffset = g.dataOffset;
    const lastTensor = [...g.tensors.values()].sort((a, b) => b.byteOffset - a.byteOffset)[0];
    g.close();
    const variant = (name: string, content: Uint8Array) => {
      const path = join(dir, name);
      writeFileSync(path, content);
      return path;
    };

    // truncated: inside the metadata, inside the tensor infos, inside the data
    for (const [cut, pattern] of [
      [100, /truncated/],
      [dataOffset - 20, /truncated/],
      [
        lastTensor.byteOffset + lastTensor.byteLength - 1,
        new RegExp(`tensor "${lastTensor.name}" .* runs past the end of the file`),
      ],
    ] as const) {
      const path = variant(`cut-${cut}.gguf`, bytes.subarray(0, cut));
      assertNamedError(() => readLocalCheckpoint(path), path, pattern);
    }
    const empty = variant('empty.gguf', new Uint8Array(0));
    assertNamedError(
      () => readLocalCheckpoint(empty),
      empty,
      /truncated: reading the magic bytes needs 4 bytes at byte 0/,
    );
    const notGguf = variant('other.gguf', Buffer.from('GGML and more bytes'));
    assertNamedError(() => readLocalCheckpoint(notGguf), notGguf, /not a GGUF file/);

    // a header that lies: a tensor offset past the end; a huge tensor count; a huge string length
    const lying = Buffer.from(bytes);
    // the tensor info: name (u64 length + bytes), n_dims u32, dims u64 × n, type u32, offset u64
    const nameField = Buffer.alloc(8 + lastTensor.name.length);
    nameField.writeBigUInt64LE(BigInt(lastTensor.name.length));
    nameField.write(lastTensor.name, 8);
    const at = lying.indexOf(nameField) + nameField.length;
    lying.writeBigUInt64LE(BigInt(bytes.length), at + 4 + 8 * lastTensor.dims.length + 4); // its offset
    const lyingOffset = variant('offset.gguf', lying);
    assertNamedError(
      () => readLocalCheckpoint(lyingOffset),
      lyingOffset,
      new RegExp(`tensor "${lastTensor.name}".*runs past the end`),
    );
    const manyTensors = Buffer.from(bytes);
    manyTensors.writeBigUInt64LE(1n << 40n, 8);
    const many = variant('count.gguf', manyTensors);
    assertNamedError(() => readLocalCheckpoint(many), many, /the tensor count is 1099511627776, more than/);
    const longKey = Buffer.from(bytes);
    longKey.writeBigUInt64LE(1n << 50n, 24); // the length of the first key
    const longPath = variant('key.gguf', longKey);
    assertNamedError(() => readLocalCheckpoint(longPath), longPath, /the length of metadata key #0 is \d+, more than/);

    // an unknown / unsupported tensor type
    for (const [typeId, name] of [
      [16, 'IQ2_XXS'],
      [99, 'unknown type 99'],
    ] as const) {
      const typed = Buffer.from(bytes);
      typed.writeUInt32LE(typeId, at + 4 + 8 * lastTensor.dims.length);
      const path = variant(`type-${typeId}.gguf`, typed);
      assertNamedError(
        () => readLocalCheckpoint(path),
        path,
        new RegExp(`tensor "${lastTensor.name}" has type ${name}, which alignkit cannot read`),
      );
    }

    // unknown architecture, a missing required key, a tokenizer that does not match the embedding rows
    const arch = rewriteMetadata(file, join(dir, 'arch.gguf'), (m) =>
      m.set('general.architecture', gguf.string('bert') as never),
    );
    assertNamedError(
      () => readLocalCheckpoint(arch),
      arch,
      /field "general.architecture": architecture "bert" is not supported/,
    );
    const missing = rewriteMetadata(file, join(dir, 'missing.gguf'), (m) => m.delete('llama.block_count'));
    assertNamedError(
      () => readLocalCheckpoint(missing),
      missing,
      /field "llama.block_count": missing from the metadata/,
    );
    const tokens = rewriteMetadata(file, join(dir, 'tokens.gguf'), (m) => {
      m.set('tokenizer.ggml.tokens', gguf.strings(toyVocabulary(39).tokens) as never);
      m.set('tokenizer.ggml.token_type', gguf.i32s(new Int32Array(39).fill(1)) as never);
    });
    assertNamedError(
      () => readLocalCheckpoint(tokens),
      tokens,
      /field "tokenizer.ggml.tokens": the tokenizer has 39 tokens but token_embd.weight has 40 rows/,
    );
    const badType = rewriteMetadata(file, join(dir, 'scalar.gguf'), (m) =>
      m.set('llama.block_count', gguf.string('one') as never),
    );
    assertNamedError(
      () => readLocalCheckpoint(badType),
      badType,
      /field "llama.block_count": expected a non-negative integer, got STRING "one"/,
    );
    // the original is still fine
    assert.equal(readLocalCheckpoint(file).config.numLayers, 1);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('CLI: convert --to gguf, quantize, and --model file.gguf; bad flags are one-line errors', () => {
  const dir = tmp();
  try {
    const run = (...args: string[]) => spawnSync('node', [...ALIGNKIT, ...args], { encoding: 'utf8' });
    const f32 = join(dir, 's.gguf');
    const converted = run('convert', '--model', STORIES260K, '--tokenizer', TOK512, '--to', 'gguf', '--out', f32);
    assert.equal(converted.status, 0, converted.stderr);
    assert.match(converted.stdout, /wrote .*s\.gguf \(GGUF llama, f32: 47 F32 tensors\)/);
    const greedy = run('generate', '--model', f32, '--temperature', '0', '--max-new-tokens', '200');
    const expected = readFileSync('data/stories260K/greedy-200.expected.txt', 'utf8').trimEnd();
    assert.equal(greedy.stdout.trimEnd(), expected);
    // the load summary, once, on stderr
    assert.equal(greedy.stderr.trim(), `note: ${f32}: GGUF llama (LlamaForCausalLM): 47 F32 tensors`);
    const q4 = join(dir, 'q4.gguf');
    const quantized = run('quantize', '--model', f32, '--type', 'q4_0', '--out', q4);
    assert.equal(quantized.status, 0, quantized.stderr);
    assert.match(quantized.stdout, /read .*s\.gguf: GGUF llama \(LlamaForCausalLM\): 47 F32 tensors/);
    assert.match(quantized.stdout, /q4_0: .*Q4_0/);
    const q4Greedy = run('generate', '--model', q4, '--temperature', '0', '--max-new-tokens', '20');
    assert.equal(q4Greedy.status, 0, q4Greedy.stderr);
    assert.match(
      q4Greedy.stderr,
      /^note: .*q4\.gguf: GGUF llama \(LlamaForCausalLM\): .*Q4_0.* tensors; \d+ matrices held quantized \(.*Q4_0 as 4-bit blocks \(exact\).*\), the rest as float32\n$/,
    );
    const back = run('convert', '--model', q4, '--out', join(dir, 'hf'));
    assert.match(back.stdout, /Q4_0.*\(read as float32\)/);
    for (const [args, message] of [
      [
        ['quantize', '--model', f32, '--type', 'q3_k', '--out', q4],
        /--type expects one of f32, f16, q8_0, q4_0, got "q3_k"/,
      ],
      [['convert', '--model', f32, '--to', 'onnx', '--out', q4], /--to expects one of hf, gguf, got "onnx"/],
      [['convert', '--model', f32, '--quantize', 'q8_0', '--out', q4], /--quantize needs --to gguf/],
    ] as const) {
      const r = run(...args);
      assert.notEqual(r.status, 0);
      assert.match(r.stderr.trim(), message);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
