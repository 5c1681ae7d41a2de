/**
 * A GGUF model <-> alignkit's ModelConfig + HF-named weights. Reading maps the metadata to
 * config.json fields through the architecture table and hands them to the family's config
 * parser, checks the tensors against the shapes that config implies, and reads each tensor once
 * at its offset. With `keepQuantized`, quantized linear and embedding matrices stay block codes
 * (quantized-blocks.ts) for the inference graphs' quantized kernels, read and converted only when
 * the graph is written (so they stream from the file into onnxruntime's, one at a time, and the
 * file is read once); everything else, and every
 * tensor without it (training, conversion), is decoded to float32. Writing encodes each tensor in
 * its turn (f32 / f16 / q8_0 / q4_0).
 */
import { formatError, inputError } from '../../errors.ts';
import { parseHfConfig, type ModelConfig } from '../config.ts';
import { float32ToFloat16 } from '../../util/half-precision.ts';
import { permuteRope, permuteRopeRows, unpermuteRope } from '../rope-permutation.ts';
import { formatShape } from '../shape.ts';
import { checkWeightShapes } from '../weight-shapes.ts';
import type { Weights } from '../weights.ts';
import {
  GGUF_ARCHITECTURES,
  ggufArchitectureOf,
  SUPPORTED_GGUF_ARCHITECTURES,
  type TensorLayout,
  type TensorMapping,
} from './gguf-architectures.ts';
import { GgufFile, type GgufEntry } from './gguf-file.ts';
import { ggufVocabularyMetadata, readGgufVocabulary, type GgufVocabulary } from './gguf-vocabulary.ts';
import { gguf, writeGgufFile, type TensorToWrite } from './gguf-writer.ts';
import type { GgmlTypeName } from './ggml-types.ts';
import { quantize } from './quantize.ts';
import {
  BLOCK_SIZE,
  describeEngineFormat,
  ENGINE_FORMAT,
  isQuantizedType,
  toBlockQuantized,
} from './quantized-blocks.ts';
import type { QuantizedWeights } from '../weights.ts';
import { transposeMatrix } from '../../util/transpose.ts';

export interface GgufModel {
  config: ModelConfig;
  /** float32, HF names and layouts (all tensors but those in `quantized`) */
  weights: Weights;
  /** with `keepQuantized`: the matrices held as block codes, HF names and layouts */
  quantized: QuantizedWeights;
  vocabulary: GgufVocabulary;
  /** the GGUF `general.architecture` */
  architecture: string;
  /** how many tensors of each stored type were read (all are float32 in memory) */
  storedTypes: Partial<Record<GgmlTypeName, number>>;
  file: string;
}

export interface ReadGgufOptions {
  onProgress?: (p: { done: number; total: number; name: string }) => void;
  /** keep quantized linear / embedding matrices as block codes (inference); default: decode all to float32 */
  keepQuantized?: boolean;
}

/** The HF matrices the engine's inference graphs can run quantized: linear projections, the embedding, the LM head. */
const QUANTIZABLE =
  /(^model\.embed_tokens\.weight$|^lm_head\.weight$|\.(q|k|v|o|qkv)_proj\.weight$|\.mlp\.(gate|up|down|gate_up)_proj\.weight$)/;

export function readGgufModel(path: string, options: ReadGgufOptions = {}): GgufModel {
  const file = GgufFile.open(path);
  try {
    const architecture = file.string('general.architecture');
    const arch = GGUF_ARCHITECTURES[architecture];
    if (!arch)
      throw file.error(
        'general.architecture',
        `architecture "${architecture}" is not supported (supported: ${SUPPORTED_GGUF_ARCHITECTURES.join(', ')})`,
      );
    const embedding = file.tensor('token_embd.weight');
    const vocabSize = embedding.shape[0];
    const vocabulary = readGgufVocabulary(file);
    if (vocabulary.tokens.length !== vocabSize)
      throw file.error(
        'tokenizer.ggml.tokens',
        `the tokenizer has ${vocabulary.tokens.length} tokens but token_embd.weight has ${vocabSize} rows: they must match`,
      );
    const config = parseHfConfig(
      arch.hfConfig(file, {
        vocabSize,
        tiedEmbeddings: !file.tensors.has('output.weight'),
        attentionBias: file.tensors.has('blk.0.attn_q.bias'),
      }),
      `${path} (GGUF metadata as config.json)`,
    );
    const mappings = arch.tensors(config);
    checkTensorNames(file, mappings);
    const shapes = new Map(mappings.map((m) => [m.hf, hfShape(file.tensor(m.gguf).shape, m.layout)]));
    checkWeightShapes(config, shapes, path);

    const weights: Weights = new Map();
    const quantized: QuantizedWeights = new Map();
    const storedTypes: GgufModel['storedTypes'] = {};
    mappings.forEach((m, i) => {
      const info = file.tensor(m.gguf);
      storedTypes[info.type] = (storedTypes[info.type] ?? 0) + 1;
      const shape = shapes.get(m.hf)!;
      const type = info.type;
      if (options.keepQuantized && isQuantizedType(type) && m.layout.kind !== 'transpose' && QUANTIZABLE.test(m.hf)) {
        // read and converted only when the graph is written, one matrix at a time
        const read = file.deferredRaw(m.gguf);
        const layout = m.layout;
        const rowBytes = info.byteLength / shape[0];
        const { bits, exact } = ENGINE_FORMAT[type];
        quantized.set(m.hf, {
          n: shape[0],
          k: shape[1],
          bits,
          blockSize: BLOCK_SIZE,
          zeroPoints: !exact,
          load() {
            // a RoPE re-layout moves whole rows, so it is done on the stored bytes before decoding
            const raw = layout.kind === 'rope' ? permuteRopeRows(read(), layout.heads, rowBytes) : read();
            return toBlockQuantized(type, raw, [shape[0], shape[1]]);
          },
        });
      } else weights.set(m.hf, { shape, data: toHfLayout(file.readFloat32(m.gguf), info.shape, m.layout) });
      options.onProgress?.({ done: i + 1, total: mappings.length, name: m.hf });
    });
    return { config, weights, quantized, vocabulary, architecture, storedTypes, file: path };
  } finally {
    file.close();
  }
}

/**
 * "42 Q4_0, 13 F32 tensors (read as float32)", or with quantized matrices kept, what each stored
 * type became: "42 Q4_0, 13 F32 tensors; 42 held quantized: Q4_0 as 4-bit blocks (exact)".
 */
export function describeStoredTypes(model: Pick<GgufModel, 'storedTypes' | 'quantized'>): string {
  const parts = Object.entries(model.storedTypes).map(([type, n]) => `${n} ${type}`);
  if (model.quantized.size === 0) {
    const widened = Object.keys(model.storedTypes).some((t) => t !== 'F32');
    return `${parts.join(', ')} tensors${widened ? ' (read as float32)' : ''}`;
  }
  const kept = Object.keys(model.storedTypes).filter((t) => t in ENGINE_FORMAT) as (keyof typeof ENGINE_FORMAT)[];
  return `${parts.join(', ')} tensors; ${model.quantized.size} matrices held quantized (${kept.map(describeEngineFormat).join('; ')}), the rest as float32`;
}

function checkTensorNames(file: GgufFile, mappings: TensorMapping[]): void {
  const expected = new Set(mappings.map((m) => m.gguf));
  for (const m of mappings)
    if (!file.tensors.has(m.gguf))
      throw formatError(`tensor "${m.gguf}" is missing (it holds ${m.hf})`, { file: file.file });
  for (const name of file.tensors.keys())
    if (!expected.has(name))
      throw formatError(
        `unexpected tensor "${name}": the ${file.string('general.architecture')} model has no place for it`,
        {
          file: file.file,
        },
      );
}

function hfShape(ggufShape: number[], layout: TensorLayout): number[] {
  return layout.kind === 'transpose' ? [ggufShape[1], ggufShape[0]] : ggufShape;
}

function toHfLayout(data: Float32Array, shape: number[], layout: TensorLayout): Float32Array {
  if (layout.kind === 'rope') return permuteRope(data, layout.heads, shape.length === 2 ? shape[1] : 1);
  if (layout.kind === 'transpose') return transposeMatrix(data, shape[0], shape[1]);
  return data;
}

function fromHfLayout(data: Float32Array, hfShape: number[], layout: TensorLayout): Float32Array {
  if (layout.kind === 'rope') return unpermuteRope(data, layout.heads, hfShape.length === 2 ? hfShape[1] : 1);
  if (layout.kind === 'transpose') return transposeMatrix(data, hfShape[0], hfShape[1]);
  return data;
}

/** What `convert --to gguf --quantize` / `quantize` accept. */
export const GGUF_PRECISIONS = ['f32', 'f16', 'q8_0', 'q4_0'] as const;
export type GgufPrecision = (typeof GGUF_PRECISIONS)[number];

/** general.file_type (llama_ftype) of each precision. */
const FILE_TYPE: Record<GgufPrecision, number> = { f32: 0, f16: 1, q4_0: 2, q8_0: 7 };

/**
 * The stored type of one tensor, as llama.cpp's quantizer chooses: vectors (norms, biases) and
 * position embeddings stay F32; under q4_0 the token embeddings and the output matrix get 8 bits
 * (llama.cpp gives them Q6_K/Q8_0); rows that are not whole 32-value blocks fall back to F16.
 */
export function storedTypeFor(ggufName: string, dims: number[], precision: GgufPrecision): GgmlTypeName {
  if (dims.length === 1 || ggufName === 'position_embd.weight') return 'F32';
  if (precision === 'f32') return 'F32';
  if (precision === 'f16') return 'F16';
  if (dims[0] % 32 !== 0) return 'F16';
  if (precision === 'q4_0' && (ggufName === 'token_embd.weight' || ggufName === 'output.weight')) return 'Q8_0';
  return precision === 'q8_0' ? 'Q8_0' : 'Q4_0';
}

export interface WriteGgufOptions {
  precision: GgufPrecision;
  vocabulary: GgufVocabulary;
  /** general.name */
  name?: string;
}

export interface WrittenGguf {
  architecture: string;
  storedTypes: Partial<Record<GgmlTypeName, number>>;
  /** what the file cannot say about the model (e.g. Mistral's sliding window) */
  notes: string[];
}

export function writeGgufModel(
  path: string,
  config: ModelConfig,
  weights: Weights,
  options: WriteGgufOptions,
): WrittenGguf {
  const architecture = ggufArchitectureOf(config);
  if (!architecture)
    throw inputError(
      `${config.architecture} has no GGUF architecture alignkit writes (supported: ${SUPPORTED_GGUF_ARCHITECTURES.join(', ')})`,
      { field: 'architecture' },
    );
  const shapes = new Map([...weights].map(([name, t]) => [name, t.shape]));
  checkWeightShapes(config, shapes, `weights to write to ${path}`);
  if (options.vocabulary.tokens.length !== config.vocabSize)
    throw inputError(
      `the tokenizer has ${options.vocabulary.tokens.length} tokens but the model has ${config.vocabSize} embedding rows; a GGUF file needs them equal`,
      { file: path },
    );
  const arch = GGUF_ARCHITECTURES[architecture];
  const notes: string[] = [];
  if (config.slidingWindow !== null && config.slidingWindow < config.maxPositions)
    notes.push(
      `the sliding window (${config.slidingWindow}) is not stored: llama.cpp runs "${architecture}" with full attention`,
    );

  const storedTypes: WrittenGguf['storedTypes'] = {};
  const tensors: TensorToWrite[] = arch.tensors(config).map((m) => {
    const tensor = weights.get(m.hf)!;
    const ggufShape = hfShape(tensor.shape, m.layout); // the transposes are their own inverse
    const dims = [...ggufShape].reverse();
    const type = storedTypeFor(m.gguf, dims, options.precision);
    storedTypes[type] = (storedTypes[type] ?? 0) + 1;
    return { name: m.gguf, dims, type, encode: () => encode(type, fromHfLayout(tensor.data, tensor.shape, m.layout)) };
  });
  const quantized = Object.keys(storedTypes).some((t) => t.startsWith('Q'));
  const metadata = new Map<string, GgufEntry>([
    ['general.architecture', gguf.string(architecture)],
    ['general.name', gguf.string(options.name ?? 'alignkit model')],
    ['general.file_type', gguf.u32(FILE_TYPE[options.precision])],
    ...(quantized ? ([['general.quantization_version', gguf.u32(2)]] as [string, GgufEntry][]) : []),
    ...arch.metadata(config),
    ...ggufVocabularyMetadata(options.vocabulary),
  ]);
  writeGgufFile(path, metadata, tensors);
  return { architecture, storedTypes, notes };
}

function encode(type: GgmlTypeName, values: Float32Array): Uint8Array {
  if (type === 'F32') return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
  if (type === 'F16') {
    const half = float32ToFloat16(values);
    return new Uint8Array(half.buffer, half.byteOffset, half.byteLength);
  }
  if (type === 'Q8_0' || type === 'Q4_0') return quantize(type, values);
  throw new RangeError(`alignkit does not write ${type} (shape ${formatShape([values.length])})`);
}
