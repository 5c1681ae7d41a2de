/**
 * A random-weight GGUF file of any size the writer handles, for benchmarks: each tensor is made
 * when it is its turn to be written (nothing of the model is held whole, so an 8B-shaped file
 * needs only its largest tensor in memory). Quantized tensors are random block codes under a
 * fixed scale, float ones normal-ish values — the shapes and bytes of a real file, with weights
 * that mean nothing. The vocabulary is SentencePiece-shaped (control tokens, the 256 byte tokens,
 * then filler pieces), which llama.cpp loads; benchmarks feed token ids directly.
 */
import type { ModelConfig } from '../config.ts';
import { float32ToFloat16 } from '../../util/half-precision.ts';
import { GGUF_ARCHITECTURES, ggufArchitectureOf } from './gguf-architectures.ts';
import { ggufVocabularyMetadata, TokenType, type GgufVocabulary } from './gguf-vocabulary.ts';
import { gguf, writeGgufFile, type TensorToWrite } from './gguf-writer.ts';
import { storedTypeFor, type GgufPrecision } from './gguf-model.ts';
import { ggmlType, type GgmlTypeName } from './ggml-types.ts';
import { AlignkitError } from '../../errors.ts';
import type { GgufEntry } from './gguf-file.ts';
import { expectedWeightShapes } from '../weight-shapes.ts';

const FILE_TYPE: Record<GgufPrecision, number> = { f32: 0, f16: 1, q4_0: 2, q8_0: 7 };

/** Writes `path`; returns the bytes of its tensor data. */
export function writeRandomGguf(path: string, config: ModelConfig, precision: GgufPrecision, seed = 1): number {
  const architecture = ggufArchitectureOf(config);
  if (!architecture) throw new AlignkitError('internal', `${config.architecture} has no GGUF form`);
  const arch = GGUF_ARCHITECTURES[architecture];
  let state = seed >>> 0 || 1;
  let bytes = 0;
  const shapes = expectedWeightShapes(config);
  const tensors: TensorToWrite[] = arch.tensors(config).map((m) => {
    const shape = shapes.get(m.hf);
    if (!shape) throw new AlignkitError('internal', `random GGUF: no shape for ${m.hf}`);
    const hfDims = m.layout.kind === 'transpose' ? [shape[1], shape[0]] : shape;
    const dims = [...hfDims].reverse();
    const type = storedTypeFor(m.gguf, dims, precision);
    const isNorm = dims.length === 1;
    return {
      name: m.gguf,
      dims,
      type,
      encode: () => {
        const count = dims.reduce((a, b) => a * b, 1);
        const out = randomTensor(type, count, isNorm, () => (state = (Math.imul(state, 1664525) + 1013904223) >>> 0));
        bytes += out.byteLength;
        return out;
      },
    };
  });
  const metadata = new Map<string, GgufEntry>([
    ['general.architecture', gguf.string(architecture)],
    ['general.name', gguf.string('random weights')],
    ['general.file_type', gguf.u32(FILE_TYPE[precision])],
    ...(precision.startsWith('q') ? ([['general.quantization_version', gguf.u32(2)]] as [string, GgufEntry][]) : []),
    ...arch.metadata(config),
    ...ggufVocabularyMetadata(fillerVocabulary(config.vocabSize)),
  ]);
  writeGgufFile(path, metadata, tensors);
  return bytes;
}

/** Random values of `type`: codes under a scale of 0.02 / 8 for blocks, small floats otherwise (norms 1). */
function randomTensor(type: GgmlTypeName, count: number, isNorm: boolean, next: () => number): Uint8Array {
  const { blockSize, blockBytes } = ggmlType(type);
  const out = new Uint8Array((count / blockSize) * blockBytes);
  if (type === 'F32' || type === 'F16') {
    const values = new Float32Array(count);
    for (let i = 0; i < count; i++) values[i] = isNorm ? 1 : ((next() >>> 8) / 2 ** 24 - 0.5) * 0.04;
    const encoded = type === 'F32' ? values : float32ToFloat16(values);
    return new Uint8Array(encoded.buffer, encoded.byteOffset, encoded.byteLength);
  }
  const words = new Uint32Array(out.buffer, 0, out.byteLength >> 2);
  for (let i = 0; i < words.length; i++) words[i] = next();
  const scale = float32ToFloat16(Float32Array.of(type === 'Q4_0' ? 0.0025 : 0.02 / 127))[0];
  for (let b = 0; b < out.length; b += blockBytes) {
    out[b] = scale & 0xff;
    out[b + 1] = scale >> 8;
  }
  return out;
}

/** `n` tokens: <unk>, <s>, </s>, the 256 byte tokens, then filler pieces. */
function fillerVocabulary(n: number): GgufVocabulary {
  const tokens = ['<unk>', '<s>', '</s>'];
  const types: number[] = [TokenType.UNKNOWN, TokenType.CONTROL, TokenType.CONTROL];
  for (let b = 0; b < 256 && tokens.length < n; b++) {
    tokens.push(`<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`);
    types.push(TokenType.BYTE);
  }
  while (tokens.length < n) {
    tokens.push(`▁w${tokens.length}`);
    types.push(TokenType.NORMAL);
  }
  return {
    model: 'llama',
    pre: null,
    tokens,
    scores: new Float32Array(n).map((_, i) => -i),
    tokenTypes: Int32Array.from(types),
    merges: null,
    bosId: 1,
    eosId: 2,
    unkId: 0,
    padId: null,
    addBos: true,
    addEos: false,
    chatTemplate: null,
  };
}
