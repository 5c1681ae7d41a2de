import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { readHfDirectory, writeHfDirectory } from '../src/models/hf-directory.ts';
import { llama2cFloatCounts, readLlama2cCheckpoint, readLlama2cHeader } from '../src/models/llama2c-checkpoint.ts';
import { permuteRope, unpermuteRope } from '../src/models/rope-permutation.ts';
import { createRng } from '../src/util/random.ts';
import { argmax, plainLlamaReference, type ReferenceDecoder } from './helpers/reference-decoder.ts';
import { assertNamedError } from './helpers/named-error.ts';

const STORIES = 'data/stories260K/stories260K.bin';
const TOKENIZER = 'data/stories260K/tok512.bin';
const GREEDY = 'data/stories260K/greedy-200.expected.txt';

const root = mkdtempSync(join(tmpdir(), 'alignkit-llama2c-'));
after(() => rmSync(root, { recursive: true, force: true }));

const random = (n: number, rng = createRng(n)) => new Float32Array(n).map(() => rng.normal());

test('stories260K: header, sizes and HF config', () => {
  const header = readLlama2cHeader(STORIES);
  assert.deepEqual(
    { ...header },
    {
      version: 0,
      dim: 64,
      hiddenDim: 172,
      numLayers: 5,
      numHeads: 8,
      numKvHeads: 4,
      vocabSize: 512,
      seqLen: 512,
      sharedClassifier: true,
      dataOffset: 28,
    },
  );
  // the file holds 264,128 floats; 4,096 of them are the freq_cis tables, the rest are parameters
  assert.deepEqual(llama2cFloatCounts(header), { floats: 264128, parameters: 260032 });
  const { config, weights } = readLlama2cCheckpoint(STORIES);
  assert.equal(config.architecture, 'LlamaForCausalLM');
  assert.equal(config.headDim, 8);
  assert.equal(config.numKvHeads, 4);
  assert.equal(config.tieWordEmbeddings, true);
  assert.equal(config.normEps, 1e-5);
  assert.equal(config.bosTokenId, 1);
  assert.equal(config.eosTokenId, 2);
  assert.equal(weights.has('lm_head.weight'), false);
  assert.equal(
    [...weights.values()].reduce((s, t) => s + t.data.length, 0),
    260032,
  );
  assert.deepEqual(weights.get('model.layers.4.self_attn.k_proj.weight')!.shape, [32, 64]);
  assert.deepEqual(weights.get('model.layers.0.mlp.down_proj.weight')!.shape, [64, 172]);
  // spot-check against raw file offsets: the first floats of the embedding and of rms_att[0]
  const raw = readFileSync(STORIES);
  assert.equal(weights.get('model.embed_tokens.weight')!.data[0], raw.readFloatLE(28));
  assert.equal(weights.get('model.layers.0.input_layernorm.weight')!.data[0], raw.readFloatLE(28 + 4 * 512 * 64));
});

test("permuteRope matches HF's view(h, d/2, 2, c).transpose(1, 2) and unpermuteRope inverts it", () => {
  const heads = 3;
  const headDim = 6;
  const cols = 5;
  const w = random(heads * headDim * cols);
  const p = permuteRope(w, heads, cols);
  // index-by-index: source element [h, i, j, c] lands at [h, j, i, c]
  for (let h = 0; h < heads; h++)
    for (let i = 0; i < headDim / 2; i++)
      for (let j = 0; j < 2; j++)
        for (let c = 0; c < cols; c++) {
          const src = ((h * (headDim / 2) + i) * 2 + j) * cols + c;
          const dst = ((h * 2 + j) * (headDim / 2) + i) * cols + c;
          assert.equal(p[dst], w[src]);
        }
  assert.notDeepEqual(p, w);
  assert.deepEqual(unpermuteRope(p, heads, cols), w);
  assert.deepEqual(permuteRope(unpermuteRope(w, heads, cols), heads, cols), w);
  assert.throws(() => permuteRope(new Float32Array(10), 2, 1), /even head size/);
});

test('the permutation turns interleaved-pair RoPE (llama2.c) into rotate-half RoPE (HF)', () => {
  const heads = 2;
  const headDim = 8;
  const dim = 16;
  const theta = 10000;
  const wq = random(heads * headDim * dim, createRng(1));
  const wk = random(heads * headDim * dim, createRng(2));
  const x = random(dim, createRng(3));
  const y = random(dim, createRng(4));
  const matvec = (w: Float32Array, v: Float32Array) =>
    Array.from({ length: w.length / v.length }, (_, r) => v.reduce((s, vi, c) => s + w[r * v.length + c] * vi, 0));
  const ropeInterleaved = (v: number[], pos: number) =>
    v.map((_, i) => {
      const pair = (i % headDim) >> 1;
      const angle = pos * theta ** ((-2 * pair) / headDim);
      const [a, b] = [v[i & ~1], v[i | 1]];
      return i % 2 === 0 ? a * Math.cos(angle) - b * Math.sin(angle) : a * Math.sin(angle) + b * Math.cos(angle);
    });
  const ropeHalves = (v: number[], pos: number) =>
    v.map((_, i) => {
      const k = i % headDim;
      const base = i - k;
      const half = headDim / 2;
      const pair = k % half;
      const angle = pos * theta ** ((-2 * pair) / headDim);
      const [a, b] = [v[base + pair], v[base + pair + half]];
      return k < half ? a * Math.cos(angle) - b * Math.sin(angle) : a * Math.sin(angle) + b * Math.cos(angle);
    });
  const scores = (q: number[], k: number[]) =>
    [0, 1].map((h) => q.slice(h * headDim, (h + 1) * headDim).reduce((s, qi, i) => s + qi * k[h * headDim + i], 0));
  for (const [pq, pk] of [
    [3, 1],
    [7, 7],
    [11, 2],
  ]) {
    const l2c = scores(ropeInterleaved(matvec(wq, x), pq), ropeInterleaved(matvec(wk, y), pk));
    const hf = scores(
      ropeHalves(matvec(permuteRope(wq, heads, dim), x), pq),
      ropeHalves(matvec(permuteRope(wk, heads, dim), y), pk),
    );
    for (let h = 0; h < heads; h++)
      assert.ok(Math.abs(l2c[h] - hf[h]) < 1e-9, `pos ${pq},${pk} head ${h}: ${l2c[h]} vs ${hf[h]}`);
    // without the permutation the scores differ (unless the relative position is 0): the check has teeth
    const unpermuted = scores(ropeHalves(matvec(wq, x), pq), ropeHalves(matvec(wk, y), pk));
    if (pq !== pk) assert.ok(Math.abs(unpermuted[0] - l2c[0]) > 1e-6);
  }
});

/** llama2.c's decode of one token (run.c): strip the space after BOS, map <0xXX> to its byte. */
function readPieces(path: string): Buffer[] {
  const buf = readFileSync(path);
  const pieces: Buffer[] = [];
  let off = 4;
  while (off < buf.length) {
    const length = buf.readInt32LE(off + 4);
    pieces.push(buf.subarray(off + 8, off + 8 + length));
    off += 8 + length;
  }
  return pieces;
}

function greedyText(model: ReferenceDecoder, pieces: Buffer[], steps: number): string {
  let token = 1;
  const out: Buffer[] = [];
  for (let pos = 0; pos < steps; pos++) {
    const next = argmax(model.step(token));
    if (next === 1) break;
    let piece = pieces[next];
    if (token === 1 && piece[0] === 0x20) piece = piece.subarray(1);
    const byte = /^<0x([0-9A-F]{2})>$/.exec(piece.toString('latin1'));
    out.push(byte ? Buffer.from([parseInt(byte[1], 16)]) : piece);
    token = next;
  }
  return Buffer.concat(out).toString('utf8');
}

test("stories260K in HF layout, run by an independent rotate-half forward pass, reproduces llama2.c's greedy output", () => {
  const { config, weights } = readLlama2cCheckpoint(STORIES);
  const text = greedyText(plainLlamaReference(config, weights), readPieces(TOKENIZER), 200);
  assert.equal(text.trimEnd(), readFileSync(GREEDY, 'utf8').trimEnd());
});

test('stories260K saved as an HF directory reads back bit-identical', () => {
  const { config, weights } = readLlama2cCheckpoint(STORIES);
  const dir = join(root, 'stories260K-hf');
  writeHfDirectory(dir, config, weights);
  const back = readHfDirectory(dir);
  assert.deepEqual(back.config, config);
  assert.deepEqual([...back.weights.keys()], [...weights.keys()]);
  for (const [name, t] of weights) assert.deepEqual(back.weights.get(name), t, name);
});

// --- synthetic checkpoints: unshared classifier, v1 layout, corrupt files ---

const dims = { dim: 8, hidden: 12, layers: 2, heads: 2, kvHeads: 1, vocab: 6, seqLen: 4 };
const headSize = dims.dim / dims.heads;
const kvDim = headSize * dims.kvHeads;

function syntheticArrays(seed: number) {
  const rng = createRng(seed);
  const make = (n: number) => random(n, rng);
  const perLayer = (n: number) => Array.from({ length: dims.layers }, () => make(n));
  const { dim: d, hidden: f, vocab: v } = dims;
  return {
    token_embedding: make(v * d),
    rms_att: perLayer(d),
    wq: perLayer(d * d),
    wk: perLayer(kvDim * d),
    wv: perLayer(kvDim * d),
    wo: perLayer(d * d),
    rms_ffn: perLayer(d),
    w1: perLayer(f * d),
    w2: perLayer(d * f),
    w3: perLayer(f * d),
    rms_final: make(d),
    freq_cis_real: make((dims.seqLen * headSize) / 2),
    freq_cis_imag: make((dims.seqLen * headSize) / 2),
    wcls: make(v * d),
  };
}
type Arrays = ReturnType<typeof syntheticArrays>;

const ints = (...values: number[]) => Buffer.from(Int32Array.from(values).buffer);
const floats = (...arrays: (Float32Array | Float32Array[])[]) =>
  Buffer.concat(arrays.flat().map((a) => Buffer.from(a.buffer, a.byteOffset, a.byteLength)));

function v0File(a: Arrays, shared: boolean): Buffer {
  const header = ints(
    dims.dim,
    dims.hidden,
    dims.layers,
    dims.heads,
    dims.kvHeads,
    shared ? dims.vocab : -dims.vocab,
    dims.seqLen,
  );
  const body = floats(
    a.token_embedding,
    a.rms_att,
    a.wq,
    a.wk,
    a.wv,
    a.wo,
    a.rms_ffn,
    a.w1,
    a.w2,
    a.w3,
    a.rms_final,
    a.freq_cis_real,
    a.freq_cis_imag,
  );
  return Buffer.concat([header, body, shared ? Buffer.alloc(0) : floats(a.wcls)]);
}

function v1File(a: Arrays, shared: boolean, version = 1): Buffer {
  const header = Buffer.alloc(256);
  header.writeUInt32LE(0x616b3432, 0);
  header.writeInt32LE(version, 4);
  ints(dims.dim, dims.hidden, dims.layers, dims.heads, dims.kvHeads, dims.vocab, dims.seqLen).copy(header, 8);
  header[36] = shared ? 1 : 0;
  const body = floats(a.rms_att, a.rms_ffn, a.rms_final, a.token_embedding, a.wq, a.wk, a.wv, a.wo, a.w1, a.w2, a.w3);
  return Buffer.concat([header, body, shared ? Buffer.alloc(0) : floats(a.wcls)]);
}

function save(name: string, bytes: Buffer): string {
  const path = join(root, name);
  writeFileSync(path, bytes);
  return path;
}

test('an unshared classifier becomes lm_head.weight; every array lands under its HF name', () => {
  const a = syntheticArrays(10);
  const { config, weights, header } = readLlama2cCheckpoint(save('unshared.bin', v0File(a, false)));
  assert.equal(header.sharedClassifier, false);
  assert.equal(config.tieWordEmbeddings, false);
  assert.equal(config.vocabSize, 6);
  assert.deepEqual(weights.get('lm_head.weight'), { shape: [6, 8], data: a.wcls });
  assert.deepEqual(weights.get('model.embed_tokens.weight')!.data, a.token_embedding);
  assert.deepEqual(weights.get('model.norm.weight')!.data, a.rms_final);
  for (let l = 0; l < dims.layers; l++) {
    const get = (n: string) => weights.get(`model.layers.${l}.${n}`)!;
    assert.deepEqual(get('input_layernorm.weight').data, a.rms_att[l]);
    assert.deepEqual(get('post_attention_layernorm.weight').data, a.rms_ffn[l]);
    assert.deepEqual(get('self_attn.q_proj.weight'), {
      shape: [8, 8],
      data: permuteRope(a.wq[l], dims.heads, dims.dim),
    });
    assert.deepEqual(get('self_attn.k_proj.weight'), {
      shape: [4, 8],
      data: permuteRope(a.wk[l], dims.kvHeads, dims.dim),
    });
    assert.deepEqual(get('self_attn.v_proj.weight'), { shape: [4, 8], data: a.wv[l] });
    assert.deepEqual(get('self_attn.o_proj.weight').data, a.wo[l]);
    assert.deepEqual(get('mlp.gate_proj.weight'), { shape: [12, 8], data: a.w1[l] });
    assert.deepEqual(get('mlp.down_proj.weight'), { shape: [8, 12], data: a.w2[l] });
    assert.deepEqual(get('mlp.up_proj.weight'), { shape: [12, 8], data: a.w3[l] });
  }
});

test('the v1 format ("ak42") gives the same model as v0', () => {
  const a = syntheticArrays(11);
  for (const shared of [true, false]) {
    const v0 = readLlama2cCheckpoint(save(`v0-${shared}.bin`, v0File(a, shared)));
    const v1 = readLlama2cCheckpoint(save(`v1-${shared}.bin`, v1File(a, shared)));
    assert.equal(v1.header.version, 1);
    assert.deepEqual(v1.config, v0.config);
    assert.deepEqual(v1.weights, v0.weights);
  }
});

test('corrupt llama2.c files give one clear error naming the file', () => {
  const a = syntheticArrays(12);
  const good = v0File(a, true);
  const truncated = save('truncated.bin', good.subarray(0, good.length - 4));
  assertNamedError(
    () => readLlama2cCheckpoint(truncated),
    truncated,
    new RegExp(
      `the file has ${good.length - 4} bytes, but its header \\(v0, dim=8, hidden_dim=12, n_layers=2, n_heads=2, n_kv_heads=1, vocab_size=6, seq_len=4, shared classifier\\) implies ${good.length} bytes`,
    ),
  );
  const tooLong = save('long.bin', Buffer.concat([good, Buffer.alloc(8)]));
  assertNamedError(() => readLlama2cCheckpoint(tooLong), tooLong, /implies \d+ bytes/);
  const text = save('text.bin', Buffer.from('this is a text file, certainly not a checkpoint'));
  assertNamedError(
    () => readLlama2cCheckpoint(text),
    text,
    /implausible header value \d+ .*is this a llama2.c checkpoint/,
  );
  const tiny = save('tiny.bin', Buffer.alloc(10));
  assertNamedError(
    () => readLlama2cCheckpoint(tiny),
    tiny,
    /truncated: a llama2.c checkpoint starts with a 28-byte header/,
  );
  const badKv = Buffer.from(good);
  badKv.writeInt32LE(3, 16);
  const badKvPath = save('kv.bin', badKv);
  assertNamedError(
    () => readLlama2cCheckpoint(badKvPath),
    badKvPath,
    /field "n_kv_heads": n_kv_heads 3 does not divide n_heads 2/,
  );
  const v2 = save('v2.bin', v1File(a, true, 2));
  assertNamedError(
    () => readLlama2cCheckpoint(v2),
    v2,
    /version 2 \(int8-quantized Q8_0\) checkpoints are not supported/,
  );
  assertNamedError(() => readLlama2cCheckpoint(join(root, 'missing.bin')), 'missing.bin', /file not found/);
});
