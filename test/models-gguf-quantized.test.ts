/**
 * GGUF models run quantized: Q8_0 / Q4_0 matrices stay block codes in the inference graph and run
 * onnxruntime's quantized kernels (MatMulNBits, or DequantizeLinear → MatMul), giving the logits
 * of the same model decoded to float32 first; other quantized types are re-quantized at load to
 * the nearest engine format; training refuses quantized files.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadNativeModel, readLocalCheckpoint, readTrainableCheckpoint } from '../src/lm/load.ts';
import { NativeModel } from '../src/lm/native/native-model.ts';
import {
  readGgufModel,
  writeGgufModel,
  describeStoredTypes,
  type GgufPrecision,
} from '../src/models/gguf/gguf-model.ts';
import { buildStepGraph } from '../src/models/inference-graphs.ts';
import { ENGINE_FORMAT, toBlockQuantized, type QuantizedGgmlType } from '../src/models/gguf/quantized-blocks.ts';
import { dequantize } from '../src/models/gguf/dequantize.ts';
import { ggmlType } from '../src/models/gguf/ggml-types.ts';
import { GgufFile } from '../src/models/gguf/gguf-file.ts';
import { gguf } from '../src/models/gguf/gguf-writer.ts';
import { dequantizeBlockwise, quantizedBytes } from '../src/engine/block-quantize.ts';
import {
  parseQuantizedAccuracy,
  QUANTIZED_KERNELS,
  type QuantizedMatmulOptions,
} from '../src/engine/quantized-matmul.ts';
import type { ModelConfig } from '../src/models/config.ts';
import { float32ToFloat16 } from '../src/util/half-precision.ts';
import { randomLlamaConfig, randomWeights } from './helpers/random-models.ts';
import { rewriteMetadata, toyVocabulary } from './helpers/gguf-files.ts';
import { assertNamedError } from './helpers/named-error.ts';

const tmp = () => mkdtempSync(join(tmpdir(), 'alignkit-gguf-q-'));

function writeModel(dir: string, config: ModelConfig, precision: GgufPrecision): string {
  const file = join(dir, `model.${precision}.gguf`);
  writeGgufModel(file, config, randomWeights(config, 3, 0.1), {
    precision,
    vocabulary: toyVocabulary(config.vocabSize, config.bosTokenId!, config.eosTokenId as number),
  });
  return file;
}

/** The same file decoded to float32 at load: the reference the quantized kernels must reproduce. */
async function float32Model(file: string): Promise<NativeModel> {
  const ckpt = readLocalCheckpoint(file);
  assert.equal(ckpt.quantized!.size, 0);
  return NativeModel.create(file, ckpt.config, ckpt.weights, ckpt.tokenizer);
}

const PROMPTS = [
  [1, 5, 9, 33, 12, 7, 40, 2, 18],
  [1, 60, 3],
];

/** Next-token log-probs after each prompt, then after two decode steps (prefill and decode graphs alike). */
async function trace(model: NativeModel): Promise<Float32Array[]> {
  const state = await model.open(PROMPTS);
  const out = [(await state.nextLogprobs()).data];
  await state.append([[4], [11]]);
  out.push((await state.nextLogprobs()).data);
  await state.append([[22], [6]]);
  out.push((await state.nextLogprobs()).data);
  state.close();
  return out;
}

function maxDiff(a: Float32Array[], b: Float32Array[]): number {
  let max = 0;
  a.forEach((x, i) => x.forEach((v, j) => (max = Math.max(max, Math.abs(v - b[i][j])))));
  return max;
}

const CONFIGS: [string, ModelConfig][] = [
  ['llama (GQA, untied)', randomLlamaConfig({ hiddenSize: 64, numHeads: 4, numKvHeads: 2, intermediateSize: 96 })],
  ['llama (tied embeddings)', randomLlamaConfig({ hiddenSize: 64, intermediateSize: 64, tieWordEmbeddings: true })],
  ['qwen2 (q/k/v biases)', randomLlamaConfig({ family: 'qwen2', hiddenSize: 64, intermediateSize: 64 })],
];

for (const [label, config] of CONFIGS)
  test(`${label}: q8_0 / q4_0 matrices run quantized with the logits of the float32-decoded file`, async () => {
    const dir = tmp();
    try {
      for (const precision of ['q8_0', 'q4_0'] as const) {
        const file = writeModel(dir, config, precision);
        const reference = await trace(await float32Model(file));
        for (const kernel of QUANTIZED_KERNELS) {
          const exact: QuantizedMatmulOptions = { kernel, accuracy: 'float32' };
          const model = await loadNativeModel(file, undefined, { quantizedMatmul: exact });
          const d = maxDiff(await trace(model), reference);
          assert.ok(d < 1e-4, `${precision} ${kernel} float32: max |Δ log p| ${d}`);
          await model.dispose();
          // int8 activations (llama.cpp's arithmetic): a rounding of x per 32-value block, not of the weights
          const fast = await loadNativeModel(file, undefined, { quantizedMatmul: { kernel, accuracy: 'int8' } });
          const df = maxDiff(await trace(fast), reference);
          assert.ok(df > 0 && df < 0.05, `${precision} ${kernel} int8: max |Δ log p| ${df}`);
          await fast.dispose();
        }
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

test('the quantized graph holds the block codes, never a float32 copy of a quantized matrix', () => {
  const dir = tmp();
  try {
    const config = randomLlamaConfig({ hiddenSize: 64, intermediateSize: 96, vocabSize: 96 });
    const file = writeModel(dir, config, 'q4_0');
    const model = readGgufModel(file, { keepQuantized: true });
    // every matrix is quantized (q4_0 files keep the embedding and the head at Q8_0); norms stay float32
    assert.equal(model.quantized.size, 2 + 7 * config.numLayers);
    assert.deepEqual(
      [...model.weights.values()].map((w) => w.shape.length),
      Array(2 * config.numLayers + 1).fill(1),
    );
    let codes = 0;
    for (const q of model.quantized.values()) codes += quantizedBytes(q.load());
    const graph = buildStepGraph(model.config, model.weights, model.quantized);
    const largestFloat = Math.max(
      ...[...graph.initializers.values()].filter((t) => t.dtype === 'float32').map((t) => t.data.byteLength / 4),
    );
    const smallestMatrix = Math.min(...[...model.quantized.values()].map((q) => q.n * q.k));
    assert.ok(largestFloat < smallestMatrix, `a float32 initializer of ${largestFloat} values`);
    // q|k|v and gate|up, multiplied by the same input, run as one stacked product each (+ the head once, on the
    // scored and next rows together)
    const products = graph.nodes.filter((n) => n.op === 'MatMulNBits').length;
    assert.equal(products, 4 * config.numLayers + 1);
    // codes + scales, plus the embedding's 8-bit gather table and per-block zero points
    assert.ok(graph.initializerBytes() < 1.5 * codes, `${graph.initializerBytes()} bytes for ${codes} of codes`);
    assert.match(
      describeStoredTypes(model),
      /16 matrices held quantized \(Q8_0 as 8-bit blocks \(exact\); Q4_0 as 4-bit blocks \(exact\)\)/,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** Random blocks of `type` with float16 scales in a sane range (random bytes are valid codes). */
function randomBlocks(type: QuantizedGgmlType, numBlocks: number, seed: number): Uint8Array {
  const { blockBytes } = ggmlType(type);
  let s = seed;
  const bytes = Uint8Array.from({ length: numBlocks * blockBytes }, () => (s = (s * 1103515245 + 12345) >>> 0) >>> 24);
  const half = (x: number) => float32ToFloat16(Float32Array.of(x))[0];
  const scaleAt: Record<QuantizedGgmlType, number[]> = {
    Q8_0: [0],
    Q4_0: [0],
    Q4_1: [0, 2],
    Q5_0: [0],
    Q5_1: [0, 2],
    Q4_K: [0, 2],
    Q5_K: [0, 2],
    Q6_K: [blockBytes - 2],
  };
  for (let b = 0; b < numBlocks; b++)
    scaleAt[type].forEach((at, i) => {
      const h = half((i === 0 ? 0.01 : -0.05) * (1 + ((b * 7) % 5)));
      bytes[b * blockBytes + at] = h & 0xff;
      bytes[b * blockBytes + at + 1] = h >> 8;
    });
  return bytes;
}

test('Q4_1, Q5_0, Q5_1, Q4_K, Q5_K, Q6_K are re-quantized to the nearest engine blocks, within a step', () => {
  const [rows, cols] = [4, 512];
  for (const type of Object.keys(ENGINE_FORMAT) as QuantizedGgmlType[]) {
    const raw = randomBlocks(type, (rows * cols) / ggmlType(type).blockSize, 7);
    const exact = dequantize(type, raw, rows * cols);
    const blocks = toBlockQuantized(type, raw, [rows, cols]);
    assert.equal(blocks.bits, ENGINE_FORMAT[type].bits, type);
    assert.equal(
      blocks.zeroPoints === undefined,
      ENGINE_FORMAT[type].exact,
      `${type}: zero points only when re-quantized`,
    );
    const back = dequantizeBlockwise(blocks);
    if (ENGINE_FORMAT[type].exact) assert.deepEqual(back, exact, type);
    for (let i = 0; i < back.length; i++) {
      // half a step, or a whole one where the rounded zero point pushes a code past the end of the range
      const step = blocks.scales[(i / 32) | 0];
      assert.ok(Math.abs(back[i] - exact[i]) <= step + 1e-6, `${type} value ${i}: ${back[i]} vs ${exact[i]}`);
    }
  }
});

test('a quantized model asked for the contrib graph or the WebAssembly kernel runs on the standard graph, and says so once each', async () => {
  const dir = tmp();
  try {
    const config = randomLlamaConfig({ numKvHeads: 2 });
    const file = writeModel(dir, config, 'q8_0');
    const reference = await trace(await loadNativeModel(file));
    const model = await loadNativeModel(file, undefined, { graph: 'contrib', runtime: 'wasm' });
    assert.equal(model.graphFlavour, 'standard');
    assert.equal(model.stepRuntime, 'onnxruntime');
    assert.deepEqual(model.engineNotes, [
      'graph flavour contrib: the contrib graph has no quantized matmuls yet; using the standard graph',
      'runtime wasm: the WebAssembly kernel multiplies float32 weights, and this model keeps its matrices quantized; using onnxruntime',
    ]);
    assert.equal(maxDiff(await trace(model), reference), 0);
    await model.dispose();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('training refuses a quantized GGUF file by name; a float32 one trains', () => {
  const dir = tmp();
  try {
    const config = randomLlamaConfig({ hiddenSize: 64, intermediateSize: 64 });
    const q4 = writeModel(dir, config, 'q4_0');
    assertNamedError(
      () => readTrainableCheckpoint(q4),
      q4,
      /holds quantized weights \((Q8_0, Q4_0|Q4_0, Q8_0)\); training runs on float32/,
    );
    assert.equal(readTrainableCheckpoint(writeModel(dir, config, 'f32')).weights.size, 3 + 9 * config.numLayers);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('bad files fail the quantized load as the float32 one does: one error naming the file and tensor or key', async () => {
  const dir = tmp();
  try {
    const config = randomLlamaConfig({ hiddenSize: 64, intermediateSize: 64 });
    const file = writeModel(dir, config, 'q4_0');
    const bytes = readFileSync(file);
    const g = GgufFile.open(file);
    const last = [...g.tensors.values()].sort((a, b) => b.byteOffset - a.byteOffset)[0];
    g.close();
    const variant = (name: string, content: Uint8Array) => {
      const path = join(dir, name);
      writeFileSync(path, content);
      return path;
    };
    const truncated = variant('cut.gguf', bytes.subarray(0, last.byteOffset + 5));
    const short = rewriteMetadata(file, join(dir, 'tokens.gguf'), (m) => {
      const vocabulary = toyVocabulary(config.vocabSize - 1);
      m.set('tokenizer.ggml.tokens', gguf.strings(vocabulary.tokens) as never);
      m.set('tokenizer.ggml.token_type', gguf.i32s(vocabulary.tokenTypes) as never);
    });
    const missing = rewriteMetadata(file, join(dir, 'missing.gguf'), (m) => m.delete('llama.embedding_length'));
    for (const [path, pattern] of [
      [truncated, new RegExp(`tensor "${last.name}" .* runs past the end of the file`)],
      [short, /the tokenizer has 63 tokens but token_embd.weight has 64 rows/],
      [missing, /field "llama.embedding_length": missing from the metadata/],
    ] as const) {
      assertNamedError(() => readLocalCheckpoint(path, undefined, { keepQuantized: true }), path, pattern);
      await assert.rejects(loadNativeModel(path), (e: Error) => e.message.includes(path) && pattern.test(e.message));
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('float32-4bit: 4-bit products multiply in float32, 8-bit ones (the q4_0 file keeps its head at Q8_0) in int8', async () => {
  const dir = tmp();
  try {
    const config = randomLlamaConfig({ hiddenSize: 64, numHeads: 4, numKvHeads: 2, intermediateSize: 96 });
    const file = writeModel(dir, config, 'q4_0');
    const model = readGgufModel(file, { keepQuantized: true });
    const options = { kernel: 'matmulnbits', ...parseQuantizedAccuracy('float32-4bit', {}) } as const;
    const graph = buildStepGraph(model.config, model.weights, model.quantized, options);
    const levels = new Set(
      graph.nodes
        .filter((n) => n.op === 'MatMulNBits')
        .map((n) => {
          const attr = (name: string) => (n.attrs[name] as { value: number }).value;
          return `${attr('bits')}-bit at level ${attr('accuracy_level')}`;
        }),
    );
    assert.deepEqual([...levels].sort(), ['4-bit at level 0', '8-bit at level 4']);
    const reference = await trace(await float32Model(file));
    const mixed = await loadNativeModel(file, undefined, { quantizedMatmul: options });
    const d = maxDiff(await trace(mixed), reference);
    assert.ok(d > 0 && d < 0.05, `max |Δ log p| ${d}`);
    await mixed.dispose();
    assertNamedError(
      () => parseQuantizedAccuracy('float16', { field: 'ALIGNKIT_QUANTIZED_ACCURACY' }),
      'ALIGNKIT_QUANTIZED_ACCURACY',
      /"float16".*int8, float32, float32-4bit/,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
