/**
 * llama2.c checkpoints (`.bin`), read into HF names and layouts.
 *
 * v0 (legacy): 7 int32 (dim, hidden_dim, n_layers, n_heads, n_kv_heads, vocab_size, seq_len;
 * a negative vocab_size means the classifier is not shared with the embedding), then float32
 * arrays in run.c order: token_embedding, rms_att, wq, wk, wv, wo, rms_ffn, w1, w2, w3,
 * rms_final, freq_cis_real, freq_cis_imag, [wcls].
 * v1: uint32 magic "ak42", int32 version 1, the same 7 int32, a shared-classifier byte, zero
 * padding to 256 bytes, then rms_att, rms_ffn, rms_final, token_embedding, wq, wk, wv, wo, w1,
 * w2, w3, [wcls] (no freq_cis).
 */
import { closeSync, existsSync, fstatSync, openSync, readSync } from '../util/io.ts';
import { formatError, inputError } from '../errors.ts';
import type { ModelConfig } from './config.ts';
import { permuteRope } from './rope-permutation.ts';
import { expectedWeightShapes } from './weight-shapes.ts';
import type { WeightTensor, Weights } from './weights.ts';

const MAGIC_V1 = 0x616b3432;
const V1_HEADER_BYTES = 256;

export interface Llama2cHeader {
  version: 0 | 1;
  dim: number;
  hiddenDim: number;
  numLayers: number;
  numHeads: number;
  numKvHeads: number;
  vocabSize: number;
  seqLen: number;
  sharedClassifier: boolean;
  /** where the float32 data starts */
  dataOffset: number;
}

export interface Llama2cModel {
  config: ModelConfig;
  /** HF names and layouts (q/k rows permuted to rotate-half RoPE) */
  weights: Weights;
  header: Llama2cHeader;
}

export function readLlama2cHeader(file: string): Llama2cHeader {
  if (!existsSync(file)) throw inputError('file not found', { file });
  const fd = openSync(file, 'r');
  try {
    const size = fstatSync(fd).size;
    const bytes = new Uint8Array(Math.min(size, V1_HEADER_BYTES));
    readSync(fd, bytes, 0, bytes.length, 0);
    const header = parseHeader(bytes, file);
    checkPlausible(header, file);
    const expected = expectedFileBytes(header);
    if (size !== expected) {
      throw formatError(
        `the file has ${size} bytes, but its header (${describe(header)}) implies ${expected} bytes: truncated, or not a llama2.c checkpoint`,
        { file },
      );
    }
    return header;
  } finally {
    closeSync(fd);
  }
}

function parseHeader(bytes: Uint8Array, file: string): Llama2cHeader {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const int32 = (at: number) => view.getInt32(at, true);
  if (bytes.length >= 8 && view.getUint32(0, true) === MAGIC_V1) {
    const version = int32(4);
    if (version === 2)
      throw formatError(
        'llama2.c version 2 (int8-quantized Q8_0) checkpoints are not supported; export with --version 0 or 1',
        { file },
      );
    if (version !== 1)
      throw formatError(`unknown llama2.c checkpoint version ${version} (supported: legacy v0 and v1)`, { file });
    if (bytes.length < V1_HEADER_BYTES)
      throw formatError(
        `truncated: a v1 checkpoint has a ${V1_HEADER_BYTES}-byte header, the file has ${bytes.length} bytes`,
        { file },
      );
    const ints = [0, 1, 2, 3, 4, 5, 6].map((i) => int32(8 + 4 * i));
    return fromInts(1, ints, bytes[36] === 1, V1_HEADER_BYTES);
  }
  if (bytes.length < 28)
    throw formatError(
      `truncated: a llama2.c checkpoint starts with a 28-byte header, the file has ${bytes.length} bytes`,
      { file },
    );
  const ints = [0, 1, 2, 3, 4, 5, 6].map((i) => int32(4 * i));
  return fromInts(0, ints, ints[5] > 0, 28);
}

function fromInts(version: 0 | 1, ints: number[], sharedClassifier: boolean, dataOffset: number): Llama2cHeader {
  const [dim, hiddenDim, numLayers, numHeads, numKvHeads, vocab, seqLen] = ints;
  return {
    version,
    dim,
    hiddenDim,
    numLayers,
    numHeads,
    numKvHeads,
    vocabSize: Math.abs(vocab),
    seqLen,
    sharedClassifier,
    dataOffset,
  };
}

function describe(h: Llama2cHeader): string {
  return (
    `v${h.version}, dim=${h.dim}, hidden_dim=${h.hiddenDim}, n_layers=${h.numLayers}, n_heads=${h.numHeads}, ` +
    `n_kv_heads=${h.numKvHeads}, vocab_size=${h.vocabSize}, seq_len=${h.seqLen}, ${h.sharedClassifier ? 'shared' : 'separate'} classifier`
  );
}

/** Rejects headers no real checkpoint has (e.g. a file that is not a checkpoint at all). */
function checkPlausible(h: Llama2cHeader, file: string): void {
  const limits: [keyof Llama2cHeader, string, number][] = [
    ['dim', 'dim', 1 << 16],
    ['hiddenDim', 'hidden_dim', 1 << 20],
    ['numLayers', 'n_layers', 1024],
    ['numHeads', 'n_heads', 1024],
    ['numKvHeads', 'n_kv_heads', 1024],
    ['vocabSize', 'vocab_size', 1 << 24],
    ['seqLen', 'seq_len', 1 << 22],
  ];
  for (const [key, field, max] of limits) {
    const value = h[key] as number;
    if (!(value >= 1 && value <= max)) {
      throw formatError(
        `implausible header value ${value} (expected 1..${max}); is this a llama2.c checkpoint? (${describe(h)})`,
        { file, field },
      );
    }
  }
  if (h.dim % h.numHeads !== 0)
    throw formatError(`dim ${h.dim} is not divisible by n_heads ${h.numHeads}`, { file, field: 'n_heads' });
  if ((h.dim / h.numHeads) % 2 !== 0)
    throw formatError(`the head size ${h.dim / h.numHeads} must be even for RoPE`, { file, field: 'n_heads' });
  if (h.numHeads % h.numKvHeads !== 0)
    throw formatError(`n_kv_heads ${h.numKvHeads} does not divide n_heads ${h.numHeads}`, {
      file,
      field: 'n_kv_heads',
    });
}

/** The float32 arrays in file order: [name in llama2.c, per-layer?, elements per layer (or total)]. */
function layout(h: Llama2cHeader): [string, boolean, number][] {
  const { dim: d, hiddenDim: f, vocabSize: v } = h;
  const kvDim = (d / h.numHeads) * h.numKvHeads;
  const attention: [string, boolean, number][] = [
    ['wq', true, d * d],
    ['wk', true, kvDim * d],
    ['wv', true, kvDim * d],
    ['wo', true, d * d],
  ];
  const ffn: [string, boolean, number][] = [
    ['w1', true, f * d],
    ['w2', true, d * f],
    ['w3', true, f * d],
  ];
  const classifier: [string, boolean, number][] = h.sharedClassifier ? [] : [['wcls', false, v * d]];
  if (h.version === 1) {
    return [
      ['rms_att', true, d],
      ['rms_ffn', true, d],
      ['rms_final', false, d],
      ['token_embedding', false, v * d],
      ...attention,
      ...ffn,
      ...classifier,
    ];
  }
  const freqs = (h.seqLen * (d / h.numHeads)) / 2;
  return [
    ['token_embedding', false, v * d],
    ['rms_att', true, d],
    ...attention,
    ['rms_ffn', true, d],
    ...ffn,
    ['rms_final', false, d],
    ['freq_cis_real', false, freqs],
    ['freq_cis_imag', false, freqs],
    ...classifier,
  ];
}

function expectedFileBytes(h: Llama2cHeader): number {
  return h.dataOffset + 4 * layout(h).reduce((sum, [, perLayer, n]) => sum + (perLayer ? h.numLayers * n : n), 0);
}

/** Number of float32 values in the file (freq_cis included), and of model parameters (without). */
export function llama2cFloatCounts(h: Llama2cHeader): { floats: number; parameters: number } {
  let floats = 0;
  let parameters = 0;
  for (const [name, perLayer, n] of layout(h)) {
    const count = perLayer ? h.numLayers * n : n;
    floats += count;
    if (!name.startsWith('freq_cis')) parameters += count;
  }
  return { floats, parameters };
}

export function llama2cConfig(h: Llama2cHeader): ModelConfig {
  return {
    family: 'llama',
    architecture: 'LlamaForCausalLM',
    vocabSize: h.vocabSize,
    hiddenSize: h.dim,
    numLayers: h.numLayers,
    numHeads: h.numHeads,
    numKvHeads: h.numKvHeads,
    headDim: h.dim / h.numHeads,
    intermediateSize: h.hiddenDim,
    maxPositions: h.seqLen,
    normEps: 1e-5,
    ropeTheta: 10000,
    attentionBias: false,
    tieWordEmbeddings: h.sharedClassifier,
    slidingWindow: null,
    bosTokenId: 1,
    eosTokenId: 2,
    torchDtype: 'float32',
  };
}

/** HF name and shape for llama2.c array `name` (layer `l`), and how to bring its rows into HF's layout. */
function hfTensor(
  name: string,
  l: number,
  h: Llama2cHeader,
): { hfName: string; shape: number[]; transform?: (x: Float32Array) => Float32Array } | null {
  const { dim: d, hiddenDim: f, vocabSize: v } = h;
  const kvDim = (d / h.numHeads) * h.numKvHeads;
  const layer = `model.layers.${l}.`;
  switch (name) {
    case 'token_embedding':
      return { hfName: 'model.embed_tokens.weight', shape: [v, d] };
    case 'rms_att':
      return { hfName: `${layer}input_layernorm.weight`, shape: [d] };
    case 'wq':
      return {
        hfName: `${layer}self_attn.q_proj.weight`,
        shape: [d, d],
        transform: (x) => permuteRope(x, h.numHeads, d),
      };
    case 'wk':
      return {
        hfName: `${layer}self_attn.k_proj.weight`,
        shape: [kvDim, d],
        transform: (x) => permuteRope(x, h.numKvHeads, d),
      };
    case 'wv':
      return { hfName: `${layer}self_attn.v_proj.weight`, shape: [kvDim, d] };
    case 'wo':
      return { hfName: `${layer}self_attn.o_proj.weight`, shape: [d, d] };
    case 'rms_ffn':
      return { hfName: `${layer}post_attention_layernorm.weight`, shape: [d] };
    case 'w1':
      return { hfName: `${layer}mlp.gate_proj.weight`, shape: [f, d] };
    case 'w2':
      return { hfName: `${layer}mlp.down_proj.weight`, shape: [d, f] };
    case 'w3':
      return { hfName: `${layer}mlp.up_proj.weight`, shape: [f, d] };
    case 'rms_final':
      return { hfName: 'model.norm.weight', shape: [d] };
    case 'wcls':
      return { hfName: 'lm_head.weight', shape: [v, d] };
    default:
      return null; // freq_cis: HF computes RoPE tables itself
  }
}

/** Reads a llama2.c checkpoint (v0 or v1) as an HF-layout llama model. */
export function readLlama2cCheckpoint(file: string): Llama2cModel {
  const header = readLlama2cHeader(file);
  const config = llama2cConfig(header);
  const byName = new Map<string, WeightTensor>();
  const fd = openSync(file, 'r');
  try {
    let position = header.dataOffset;
    for (const [name, perLayer, count] of layout(header)) {
      for (let l = 0; l < (perLayer ? header.numLayers : 1); l++) {
        const target = hfTensor(name, l, header);
        if (target) {
          let data: Float32Array = new Float32Array(count);
          const bytes = new Uint8Array(data.buffer);
          if (readSync(fd, bytes, 0, bytes.length, position) !== bytes.length) {
            throw formatError(`unexpected end of file reading ${name} (the file shrank while being read?)`, { file });
          }
          if (target.transform) data = target.transform(data);
          byName.set(target.hfName, { shape: target.shape, data });
        }
        position += 4 * count;
      }
    }
  } finally {
    closeSync(fd);
  }
  // canonical HF order (embedding, layer by layer, final norm, head)
  const weights: Weights = new Map();
  for (const name of expectedWeightShapes(config).keys()) weights.set(name, byName.get(name)!);
  return { config, weights, header };
}
