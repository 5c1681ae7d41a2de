/**
 * Loads a local checkpoint as a native model: an HF directory (a causal LM, or a reward / value
 * model whose scalar head then runs too), a GGUF file or a llama2.c checkpoint, with its
 * tokenizer, validated. Files are read through the I/O boundary (util/io.ts), so a web page loads
 * models with this too.
 */
import { dirname, envVar, existsSync, join, readdirSync, statSync } from '../util/io.ts';
import { NativeModel } from './native/native-model.ts';
import { readHfDirectory, isHfDirectory } from '../models/hf-directory.ts';
import { readLlama2cCheckpoint } from '../models/llama2c-checkpoint.ts';
import { isRewardModelDirectory, readRewardModel } from './reward-model-directory.ts';
import type { ModelConfig } from '../models/config.ts';
import type { QuantizedWeights, Weights } from '../models/weights.ts';
import {
  DEFAULT_QUANTIZED_MATMUL,
  parseQuantizedAccuracy,
  parseQuantizedKernel,
  type QuantizedMatmulOptions,
} from '../engine/quantized-matmul.ts';
import { loadTokenizer, checkTokenizerMatchesModel } from '../tokenizers/load-tokenizer.ts';
import type { Tokenizer } from '../tokenizers/tokenizer.ts';
import { AlignkitError, inputError } from '../errors.ts';
import { randomInitWeights } from '../models/random-init.ts';
import { isGgufFile } from '../models/gguf/gguf-file.ts';
import { describeStoredTypes, readGgufModel } from '../models/gguf/gguf-model.ts';
import { ggufTokenizer } from '../tokenizers/gguf-tokenizer.ts';
import { parseModelRef } from './model-ref.ts';
import { announceModelNotes } from './model-notes.ts';
import { adapterBaseModel, applyAdapter, isAdapterDirectory, readAdapters } from '../models/lora-adapter.ts';
import type { GraphFlavour } from '../engine/graph-flavour.ts';
import type { StepRuntime } from './native/runtime.ts';

export interface LocalCheckpoint {
  config: ModelConfig;
  weights: Weights;
  tokenizer: Tokenizer;
  /** the file or directory the weights came from */
  source: string;
  /** what loading changed, for the load log (e.g. the GGUF tensor types widened to float32) */
  notes?: string[];
  /** matrices held as block codes (GGUF read with `keepQuantized`); absent from `weights` */
  quantized?: QuantizedWeights;
  /** the quantized tensor types of a GGUF file, when it had any (e.g. ['Q4_0', 'Q8_0']) */
  quantizedTypes?: string[];
}

export interface ReadCheckpointOptions {
  /** keep a GGUF file's quantized matrices as block codes (inference); default: decode to float32 */
  keepQuantized?: boolean;
}

/** Reads a local checkpoint (HF directory, GGUF file or llama2.c .bin) with its tokenizer, validated. */
export function readLocalCheckpoint(
  path: string,
  tokenizerPath?: string,
  options: ReadCheckpointOptions = {},
): LocalCheckpoint {
  if (!existsSync(path))
    throw inputError('model not found (expected an HF directory, a GGUF file or a llama2.c .bin checkpoint)', {
      file: path,
    });
  if (isGgufFile(path) || /\.gguf$/i.test(path)) return readGgufCheckpoint(path, tokenizerPath, options);
  let config: ModelConfig, weights: Weights, defaultTokenizer: string | undefined;
  if (isRewardModelDirectory(path)) {
    // reward / value models keep their score head in `weights`; the native model runs it
    ({ config, weights } = readRewardModel(path));
    defaultTokenizer = path;
  } else if (isHfDirectory(path)) {
    ({ config, weights } = readHfDirectory(path));
    defaultTokenizer = path;
  } else if (statSync(path).isDirectory()) {
    throw inputError('not a model directory: no config.json (expected an HF directory or a llama2.c .bin checkpoint)', {
      file: path,
    });
  } else {
    ({ config, weights } = readLlama2cCheckpoint(path));
    defaultTokenizer = siblingLlama2cTokenizer(path);
  }
  const tokPath = tokenizerPath ?? defaultTokenizer;
  if (!tokPath)
    throw inputError(
      'no tokenizer found beside the checkpoint; pass --tokenizer PATH (a llama2.c tokenizer .bin or an HF tokenizer)',
      { file: path },
    );
  const tokenizer = loadTokenizer(tokPath);
  checkTokenizerMatchesModel(tokenizer, config.vocabSize, path);
  return { config, weights, tokenizer, source: path };
}

/** A GGUF file carries its tokenizer; `--tokenizer` may still replace it. */
function readGgufCheckpoint(
  path: string,
  tokenizerPath: string | undefined,
  options: ReadCheckpointOptions,
): LocalCheckpoint {
  const model = readGgufModel(path, { keepQuantized: options.keepQuantized });
  const tokenizer = tokenizerPath ? loadTokenizer(tokenizerPath) : ggufTokenizer(model.vocabulary, path);
  checkTokenizerMatchesModel(tokenizer, model.config.vocabSize, path);
  const note = `GGUF ${model.architecture} (${model.config.architecture}): ${describeStoredTypes(model)}`;
  const quantizedTypes = Object.keys(model.storedTypes).filter((t) => /^Q/.test(t));
  return {
    config: model.config,
    weights: model.weights,
    quantized: model.quantized,
    tokenizer,
    source: path,
    notes: [note],
    quantizedTypes: quantizedTypes.length ? quantizedTypes : undefined,
  };
}

/**
 * A local checkpoint to train. Full fine-tuning needs float32 weights, so a GGUF file of quantized
 * tensors is refused for it: training would tune a widened copy of rounded values that could not
 * be written back as the same quantization. LoRA (`lora`) trains adapters over it instead, its
 * matrices kept as block codes (QLoRA).
 */
export function readTrainableCheckpoint(
  path: string,
  tokenizerPath?: string,
  options: { lora?: boolean } = {},
): LocalCheckpoint {
  const ckpt = readLocalCheckpoint(path, tokenizerPath, { keepQuantized: options.lora });
  if (ckpt.quantizedTypes && !options.lora)
    throw inputError(
      `holds quantized weights (${ckpt.quantizedTypes.join(', ')}); training runs on float32 weights unless it trains LoRA adapters over the quantized base: pass --lora-rank R (train sft|dpo|rm|value), or convert it first (alignkit convert --model ${path} --out DIR writes a float32 HF directory)`,
      { file: path },
    );
  return ckpt;
}

/** The quantized matmul kernel and arithmetic: ALIGNKIT_QUANTIZED_MATMUL / ALIGNKIT_QUANTIZED_ACCURACY, else the defaults. */
export function quantizedMatmulFromEnv(): QuantizedMatmulOptions {
  const kernel = envVar('ALIGNKIT_QUANTIZED_MATMUL');
  const accuracy = envVar('ALIGNKIT_QUANTIZED_ACCURACY');
  const options: QuantizedMatmulOptions = {
    kernel: kernel
      ? parseQuantizedKernel(kernel, { field: 'ALIGNKIT_QUANTIZED_MATMUL' })
      : DEFAULT_QUANTIZED_MATMUL.kernel,
    ...(accuracy
      ? parseQuantizedAccuracy(accuracy, { field: 'ALIGNKIT_QUANTIZED_ACCURACY' })
      : { accuracy: DEFAULT_QUANTIZED_MATMUL.accuracy }),
  };
  if (options.accuracy4bit && options.kernel !== 'matmulnbits')
    throw inputError(
      `${accuracy} needs ALIGNKIT_QUANTIZED_MATMUL=matmulnbits (dequantize-linear has one arithmetic per session)`,
      { field: 'ALIGNKIT_QUANTIZED_ACCURACY' },
    );
  return options;
}

/** llama2.c keeps its tokenizer next to the checkpoint: tokenizer.bin, or a single tok*.bin. */
function siblingLlama2cTokenizer(file: string): string | undefined {
  const dir = dirname(file);
  if (existsSync(join(dir, 'tokenizer.bin'))) return join(dir, 'tokenizer.bin');
  const candidates = readdirSync(dir).filter((f) => /^tok.*\.bin$/.test(f) && join(dir, f) !== file);
  return candidates.length === 1 ? join(dir, candidates[0]) : undefined;
}

/**
 * A local model on the native backend. A GGUF file's quantized matrices stay quantized and run
 * onnxruntime's quantized kernels (`quantizedMatmul`, default from quantizedMatmulFromEnv()).
 * `adapter`: a LoRA adapter directory merged into the weights at load (its quantized targets
 * dequantized to float32, the rest left quantized).
 */
export async function loadNativeModel(
  path: string,
  tokenizerPath?: string,
  engine: {
    graph?: GraphFlavour;
    runtime?: StepRuntime;
    quantizedMatmul?: QuantizedMatmulOptions;
    adapter?: string;
  } = {},
): Promise<NativeModel> {
  if (isAdapterDirectory(path)) {
    // an adapter alone stands for its base with the adapter merged (a QLoRA run saves nothing else)
    if (engine.adapter)
      throw inputError('is a LoRA adapter directory: pass it alone, or its base model with --adapter', {
        file: path,
        field: 'adapter',
      });
    engine = { ...engine, adapter: path };
    path = adapterBaseModel(path);
  }
  const ckpt = readLocalCheckpoint(path, tokenizerPath, { keepQuantized: true });
  if (engine.adapter) {
    const quantized = ckpt.quantized ?? new Map();
    const { adapted, dequantized } = applyAdapter(
      ckpt.config,
      ckpt.weights,
      quantized,
      readAdapters(engine.adapter),
      engine.adapter,
    );
    ckpt.quantized = quantized;
    const widened = dequantized ? ` (${dequantized} of them dequantized to float32)` : '';
    ckpt.notes = [...(ckpt.notes ?? []), `LoRA adapter ${engine.adapter} merged into ${adapted} weights${widened}`];
  }
  const has = (name: string) => ckpt.weights.has(name) || (ckpt.quantized?.has(name) ?? false);
  if (!ckpt.config.tieWordEmbeddings && !has('lm_head.weight'))
    throw inputError(
      'this model has no LM head (lm_head.weight; reward models from other tools may lack it), so it cannot run as a language model',
      { file: path },
    );
  const model = await NativeModel.create(path, ckpt.config, ckpt.weights, ckpt.tokenizer, {
    consumeWeights: true,
    quantized: ckpt.quantized,
    graph: engine.graph,
    runtime: engine.runtime,
    quantizedMatmul: engine.quantizedMatmul ?? quantizedMatmulFromEnv(),
  });
  announceModelNotes(path, [...(ckpt.notes ?? []), ...model.engineNotes]);
  return model;
}

/**
 * A freshly initialized model of the same architecture and tokenizer as a local checkpoint
 * (the random-init control of probing experiments).
 */
export async function loadRandomInitTwin(
  ref: string,
  tokenizerPath: string | undefined,
  seed: number,
): Promise<NativeModel> {
  if (parseModelRef(ref).kind !== 'local')
    throw new AlignkitError(
      'capability',
      `a random-init twin needs a local model (its architecture and tokenizer), not the remote "${ref}"`,
    );
  const ckpt = readLocalCheckpoint(ref, tokenizerPath);
  return NativeModel.create(
    `${ref} (random init, seed ${seed})`,
    ckpt.config,
    randomInitWeights(ckpt.config, seed),
    ckpt.tokenizer,
    { consumeWeights: true },
  );
}
