/**
 * LoRA adapter directories in PEFT's layout (adapter_config.json + adapter_model.safetensors,
 * tensors named base_model.model.<module>.lora_A|lora_B.weight), read, and applied to a model at
 * load: each target weight W becomes W + (alpha/r)·B·A. A target held as block codes (a quantized
 * GGUF base, the adapter trained over it by QLoRA) is dequantized first, so the adapted matrices
 * run in float32 and every other matrix stays quantized.
 */
import { existsSync, join, resolve } from '../util/io.ts';
import { readJsonFile } from '../util/data-file.ts';
import { formatError, inputError } from '../errors.ts';
import { dequantizeBlockwise } from '../engine/block-quantize.ts';
import { readSafetensors } from './safetensors.ts';
import { specOf } from './architectures/registry.ts';
import type { ModelConfig } from './config.ts';
import type { QuantizedWeights, WeightTensor, Weights } from './weights.ts';

export const ADAPTER_CONFIG = 'adapter_config.json';
export const ADAPTER_WEIGHTS = 'adapter_model.safetensors';
export const PEFT_PREFIX = 'base_model.model.';

export interface LoraConfig {
  rank: number;
  alpha: number;
  /** module names (the path segment before `.weight`), e.g. q_proj, v_proj, c_attn */
  targets: readonly string[];
}

export interface LoraAdapter {
  /** A [r, in] and B [out, r] per target, alignkit (HF) names without PEFT's prefix */
  adapters: Weights;
  lora: LoraConfig;
  /** other trained tensors saved beside them (PEFT's modules_to_save, e.g. a reward head) */
  extra: Weights;
}

/** Whether `dir` is a PEFT LoRA adapter directory: an adapter config and no model config of its own. */
export function isAdapterDirectory(dir: string): boolean {
  return existsSync(join(dir, ADAPTER_CONFIG)) && !existsSync(join(dir, 'config.json'));
}

/**
 * The local model an adapter directory was trained over (adapter_config.json's
 * base_model_name_or_path, as `train --lora-rank` records its --model), resolved against the
 * current directory.
 */
export function adapterBaseModel(dir: string): string {
  const file = join(dir, ADAPTER_CONFIG);
  const base = readJsonFile<Record<string, unknown>>(file).base_model_name_or_path;
  if (typeof base !== 'string' || base === '')
    throw formatError('names no base model: pass the base as --model and this directory as --adapter', {
      file,
      field: 'base_model_name_or_path',
    });
  const path = resolve(base);
  if (!existsSync(path))
    throw inputError(
      `the base model "${base}" is not found (resolved against the current directory to ${path}): pass the base as --model and this directory as --adapter`,
      { file, field: 'base_model_name_or_path' },
    );
  return path;
}

/** Adapters (alignkit names, without PEFT's prefix), the LoRA config, and extra trained tensors (a reward head). */
export function readAdapters(dir: string): LoraAdapter {
  const cfgFile = join(dir, ADAPTER_CONFIG);
  if (!existsSync(cfgFile)) throw inputError(`not a LoRA adapter directory: no ${ADAPTER_CONFIG}`, { file: dir });
  const raw = readJsonFile<Record<string, any>>(cfgFile);
  if (raw.peft_type !== 'LORA')
    throw formatError(`expected peft_type "LORA", got ${JSON.stringify(raw.peft_type)}`, {
      file: cfgFile,
      field: 'peft_type',
    });
  const adapters: Weights = new Map();
  const extra: Weights = new Map();
  for (const [name, t] of readSafetensors(join(dir, ADAPTER_WEIGHTS))) {
    const bare = name.startsWith(PEFT_PREFIX) ? name.slice(PEFT_PREFIX.length) : name;
    (/\.lora_[AB]\.weight$/.test(bare) ? adapters : extra).set(bare, t);
  }
  const targets = Array.isArray(raw.target_modules) ? raw.target_modules : [raw.target_modules];
  return { adapters, lora: { rank: raw.r, alpha: raw.lora_alpha, targets }, extra };
}

/** [in, out] of a weight as its layer uses it: GPT-2's Conv1D weights are stored [in, out], nn.Linear ones [out, in]. */
export function layerDims(cfg: ModelConfig, name: string, shape: readonly number[]): { inDim: number; outDim: number } {
  return specOf(cfg).isConv1d(name) ? { inDim: shape[0], outDim: shape[1] } : { inDim: shape[1], outDim: shape[0] };
}

/** Adds scale·B·A into `w` (the stored layout of weight `name`, transposed for Conv1D), in place. */
export function addLowRank(
  cfg: ModelConfig,
  name: string,
  w: WeightTensor,
  a: WeightTensor,
  b: WeightTensor,
  scale: number,
): void {
  const { inDim, outDim } = layerDims(cfg, name, w.shape);
  const r = a.shape[0];
  const conv = specOf(cfg).isConv1d(name);
  for (let o = 0; o < outDim; o++) {
    for (let i = 0; i < inDim; i++) {
      let d = 0;
      for (let k = 0; k < r; k++) d += b.data[o * r + k] * a.data[k * inDim + i];
      w.data[conv ? i * outDim + o : o * inDim + i] += scale * d;
    }
  }
}

/**
 * Merges `adapter` (read from `dir`) into the model's weights, in place: each target leaves
 * `quantized` (dequantized) for `weights`. Returns how many weights were adapted and how many of
 * them were dequantized. A target the model lacks, or of another shape, is refused by name.
 */
export function applyAdapter(
  cfg: ModelConfig,
  weights: Weights,
  quantized: QuantizedWeights,
  adapter: LoraAdapter,
  dir: string,
): { adapted: number; dequantized: number } {
  const file = join(dir, ADAPTER_WEIGHTS);
  const { rank, alpha } = adapter.lora;
  if (!Number.isInteger(rank) || rank <= 0 || !(alpha > 0))
    throw formatError(`r and lora_alpha must be positive, got r ${rank}, lora_alpha ${alpha}`, {
      file: join(dir, ADAPTER_CONFIG),
    });
  let adapted = 0,
    dequantized = 0;
  for (const [aName, a] of adapter.adapters) {
    if (!aName.endsWith('.lora_A.weight')) continue;
    const name = aName.replace(/\.lora_A\.weight$/, '.weight');
    const bName = aName.replace(/\.lora_A\.weight$/, '.lora_B.weight');
    const b = adapter.adapters.get(bName);
    if (!b) throw formatError(`${bName} is missing (its lora_A is there)`, { file });
    const float = weights.get(name);
    const q = quantized.get(name);
    if (!float && !q) throw formatError(`${aName}: the model has no weight ${name} to adapt`, { file });
    const shape = float?.shape ?? [q!.n, q!.k];
    const { inDim, outDim } = layerDims(cfg, name, shape);
    const same = (t: WeightTensor, dims: number[]) => t.shape.length === 2 && t.shape.every((d, i) => d === dims[i]);
    if (!same(a, [rank, inDim]) || !same(b, [outDim, rank]))
      throw formatError(
        `${aName} [${a.shape}] and ${bName} [${b.shape}] do not fit ${name} [${shape}] at rank ${rank} (expected [${rank},${inDim}] and [${outDim},${rank}])`,
        { file },
      );
    const w: WeightTensor = float
      ? { shape: [...shape], data: Float32Array.from(float.data) }
      : { shape: [...shape], data: dequantizeBlockwise(q!.load()) };
    addLowRank(cfg, name, w, a, b, alpha / rank);
    weights.set(name, w);
    if (q) {
      quantized.delete(name);
      dequantized++;
    }
    adapted++;
  }
  if (adapted === 0) throw formatError('holds no lora_A/lora_B tensors', { file });
  for (const [name, t] of adapter.extra) weights.set(name, t);
  return { adapted, dequantized };
}
