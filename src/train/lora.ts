/**
 * LoRA adapters (Hu et al., PEFT's layout): for a target weight W, trainable A [r, in] and
 * B [out, r], the layer computing x·Wᵀ + (alpha/r)·(x·Aᵀ)·Bᵀ. A starts as PEFT's kaiming-uniform
 * (bound 1/√in), B at zero, so training starts from the base model exactly. GPT-2's Conv1D
 * weights are stored [in, out] (PEFT's fan_in_fan_out); the adapters keep the same shapes.
 */
import type { ModelConfig } from '../models/config.ts';
import type { QuantizedWeights, Weights } from '../models/weights.ts';
import { createRng } from '../util/random.ts';
import { inputError } from '../errors.ts';
import { specOf } from '../models/architectures/registry.ts';
import { addLowRank, layerDims, type LoraConfig } from '../models/lora-adapter.ts';

export { layerDims, type LoraConfig };

/** The family's default target modules (PEFT's: q_proj, v_proj; GPT-2's c_attn; Phi-3's qkv_proj). */
export const defaultLoraTargets = (cfg: ModelConfig): string[] => [...specOf(cfg).loraTargets];

export const loraScale = (lora: LoraConfig) => lora.alpha / lora.rank;

/** GPT-2 Conv1D weights are [in, out]; every other 2-D weight is an nn.Linear [out, in]. */
export const isConv1d = (cfg: ModelConfig, name: string) => specOf(cfg).isConv1d(name);

const moduleOf = (name: string) => name.replace(/\.weight$/, '');

export function adapterNames(weightName: string): { a: string; b: string } {
  const m = moduleOf(weightName);
  return { a: `${m}.lora_A.weight`, b: `${m}.lora_B.weight` };
}

/** The base model's tensors by name and shape, float or held as block codes ([out, in] as nn.Linear stores them). */
export type BaseShapes = ReadonlyMap<string, { readonly shape: readonly number[] }>;

/** The shapes of a base model whose matrices may be held quantized (a QLoRA base). */
export function baseShapes(weights: Weights, quantized: QuantizedWeights = new Map()): BaseShapes {
  const shapes = new Map<string, { shape: readonly number[] }>(weights);
  for (const [name, q] of quantized) shapes.set(name, { shape: [q.n, q.k] });
  return shapes;
}

/** Weights the adapters attach to: 2-D `.weight` tensors whose module name is a target (embeddings excluded). */
export function loraTargetWeights(weights: BaseShapes, lora: LoraConfig): string[] {
  const out: string[] = [];
  for (const [name, t] of weights) {
    if (!name.endsWith('.weight') || t.shape.length !== 2 || /embed_tokens|wte|wpe|score/.test(name)) continue;
    const module = moduleOf(name).split('.').pop()!;
    if (lora.targets.includes(module)) out.push(name);
  }
  return out;
}

export function checkLoraConfig(weights: BaseShapes, lora: LoraConfig): string[] {
  if (!Number.isInteger(lora.rank) || lora.rank <= 0)
    throw inputError(`LoRA rank must be a positive integer, got ${lora.rank}`, { field: 'lora-rank' });
  if (!(lora.alpha > 0)) throw inputError(`LoRA alpha must be positive, got ${lora.alpha}`, { field: 'lora-alpha' });
  const targets = loraTargetWeights(weights, lora);
  if (targets.length === 0) {
    const modules = [
      ...new Set([...weights.keys()].filter((n) => n.endsWith('.weight')).map((n) => moduleOf(n).split('.').pop()!)),
    ];
    throw inputError(
      `no weight matches the LoRA targets ${lora.targets.join(',')} (modules of this model: ${modules.join(', ')})`,
      { field: 'lora-targets' },
    );
  }
  return targets;
}

export function initAdapters(cfg: ModelConfig, weights: BaseShapes, lora: LoraConfig, seed: number): Weights {
  const rng = createRng(seed);
  const adapters: Weights = new Map();
  for (const name of checkLoraConfig(weights, lora)) {
    const { inDim, outDim } = layerDims(cfg, name, weights.get(name)!.shape);
    const bound = 1 / Math.sqrt(inDim);
    const a = Float32Array.from({ length: lora.rank * inDim }, () => (rng.next() * 2 - 1) * bound);
    const { a: aName, b: bName } = adapterNames(name);
    adapters.set(aName, { shape: [lora.rank, inDim], data: a });
    adapters.set(bName, { shape: [outDim, lora.rank], data: new Float32Array(outDim * lora.rank) });
  }
  return adapters;
}

/** Base weights with (alpha/r)·B·A added into each target (transposed for Conv1D); the base is not modified. */
export function mergeAdapters(cfg: ModelConfig, weights: Weights, adapters: Weights, lora: LoraConfig): Weights {
  const merged: Weights = new Map(weights);
  for (const name of loraTargetWeights(weights, lora)) {
    const { a: aName, b: bName } = adapterNames(name);
    const A = adapters.get(aName),
      B = adapters.get(bName);
    if (!A || !B) continue;
    const w = weights.get(name)!;
    const out = { shape: [...w.shape], data: Float32Array.from(w.data) };
    addLowRank(cfg, name, out, A, B, loraScale(lora));
    merged.set(name, out);
  }
  return merged;
}
