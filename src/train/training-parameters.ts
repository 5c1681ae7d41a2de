/**
 * The ParameterSource of training graphs: trained tensors are graph inputs (fed from the
 * optimizer's arrays each step, zero-copy, and differentiated); frozen ones are initializers
 * (prepacked by onnxruntime) or inputs; LoRA targets become adapted weights. A quantized base
 * (QLoRA) keeps its matrices as block codes (quantized-base.ts), whatever the frozen placement.
 */
import type { Graph, Value } from '../engine/graph.ts';
import type { Ops } from '../engine/ops.ts';
import { initializerSource } from '../models/inference-graphs.ts';
import type { ModelConfig } from '../models/config.ts';
import type { ParameterSource } from '../models/parameters.ts';
import type { QuantizedWeights, Weights } from '../models/weights.ts';
import { quantizedGather } from '../engine/quantized-matmul.ts';
import { AlignkitError } from '../errors.ts';
import { LoraOps } from './lora-ops.ts';
import { adapterNames, baseShapes, isConv1d, loraScale, loraTargetWeights, type LoraConfig } from './lora.ts';
import { FrozenQuantizedLinear } from './quantized-base.ts';

export type FrozenPlacement = 'initializer' | 'input';

export interface TrainableSpec {
  /** tensors trained directly (all of them for full fine-tuning; a new head for LoRA reward models) */
  full: ReadonlySet<string>;
  lora?: { config: LoraConfig; adapters: Weights };
  /** where frozen weights go (default: initializer) */
  frozen?: FrozenPlacement;
  /** frozen matrices held as block codes (a quantized GGUF base), absent from the weights */
  quantized?: QuantizedWeights;
  /** float32 bytes a product by one of them dequantizes at once (default FROZEN_CHUNK_BYTES) */
  quantizedChunkBytes?: number;
}

export class TrainingParameters implements ParameterSource {
  /** weight inputs of the graph by name, in creation order (what each run must feed) */
  readonly inputs = new Map<string, Value>();
  /** names of the inputs that get gradients */
  readonly trained: string[] = [];
  private readonly frozenSource: ParameterSource;
  private readonly linears = new Map<string, Value>();
  private readonly loraTargets: Set<string>;
  private readonly quantized: QuantizedWeights;
  private readonly quantizedLinears = new Map<string, FrozenQuantizedLinear>();

  constructor(
    private readonly o: Ops,
    private readonly cfg: ModelConfig,
    private readonly weights: Weights,
    private readonly spec: TrainableSpec,
  ) {
    const g: Graph = o.g;
    this.frozenSource = initializerSource(g, weights);
    this.quantized = spec.quantized ?? new Map();
    this.loraTargets = new Set(
      spec.lora ? loraTargetWeights(baseShapes(weights, this.quantized), spec.lora.config) : [],
    );
    if (this.loraTargets.size && !(o instanceof LoraOps))
      throw new AlignkitError('internal', 'LoRA training graphs need LoraOps');
  }

  has(name: string): boolean {
    return this.weights.has(name) || this.quantized.has(name);
  }

  /** x · Wᵀ; a quantized base weight's product is dequantized in place (plus its adapter's term). */
  project(x: Value, name: string): Value {
    if (!this.quantized.has(name)) return this.o.matmul(x, this.linear(name));
    const base = this.quantizedLinear(name).project(x);
    if (!this.loraTargets.has(name)) return base;
    const { down, up, scale } = this.adapterFactors(name);
    return (this.o as LoraOps).withLowRank(base, x, down, up, scale);
  }

  frozenQuantized(name: string): FrozenQuantizedLinear | null {
    return this.quantized.has(name) && !this.loraTargets.has(name) ? this.quantizedLinear(name) : null;
  }

  rows(name: string, ids: Value): Value {
    const q = this.quantized.get(name);
    return q ? quantizedGather(this.o.g, q, ids, name) : this.o.gather(this.tensor(name), ids);
  }

  tensor(name: string): Value {
    if (this.quantized.has(name))
      throw new AlignkitError('internal', `${name} is held quantized: only its products and rows are available`);
    if (this.loraTargets.has(name) && isConv1d(this.cfg, name))
      return this.adapted(name, this.frozenSource.tensor(name), () => this.input(name, false));
    return this.plain(name);
  }

  linear(name: string): Value {
    const hit = this.linears.get(name);
    if (hit) return hit;
    let v: Value;
    if (this.quantized.has(name)) {
      // used whole (a LoRA-adapted LM head; a frozen one goes through frozenQuantized): one dequantized copy
      const base = this.quantizedLinear(name).whole();
      v = this.loraTargets.has(name) ? this.adapted(name, base, () => base) : base;
    } else if (this.loraTargets.has(name)) {
      v = this.adapted(name, this.frozenSource.linear(name), () => this.o.transpose(this.input(name, false), [1, 0]));
    } else if (this.isInput(name)) {
      v = this.o.transpose(this.plain(name), [1, 0]);
    } else {
      v = this.frozenSource.linear(name);
    }
    this.linears.set(name, v);
    return v;
  }

  private isInput(name: string): boolean {
    return this.spec.full.has(name) || this.spec.frozen === 'input';
  }

  private plain(name: string): Value {
    return this.isInput(name) ? this.input(name, this.spec.full.has(name)) : this.frozenSource.tensor(name);
  }

  private input(
    name: string,
    trained: boolean,
    tensor = this.weights.get(name) ?? this.spec.lora?.adapters.get(name),
  ): Value {
    const hit = this.inputs.get(name);
    if (hit) return hit;
    if (!tensor) throw new AlignkitError('format', `missing weight ${name}`);
    const v = this.o.g.input(name, 'float32', [...tensor.shape]);
    this.inputs.set(name, v);
    if (trained) this.trained.push(name);
    return v;
  }

  private quantizedLinear(name: string): FrozenQuantizedLinear {
    let q = this.quantizedLinears.get(name);
    if (!q)
      this.quantizedLinears.set(
        name,
        (q = new FrozenQuantizedLinear(this.o, name, this.quantized.get(name)!, this.spec.quantizedChunkBytes)),
      );
    return q;
  }

  /** Aᵀ [in, r], Bᵀ [r, out] and the scale alpha/r of a target's adapter. */
  private adapterFactors(name: string): { down: Value; up: Value; scale: number } {
    const { a, b } = adapterNames(name);
    return {
      down: this.o.transpose(this.input(a, true), [1, 0]),
      up: this.o.transpose(this.input(b, true), [1, 0]),
      scale: loraScale(this.spec.lora!.config),
    };
  }

  /** W + s·(B·A) as [in, out]; the frozen base as the frozen placement says. */
  private adapted(name: string, frozenInitializer: Value, frozenInput: () => Value): Value {
    const base = this.spec.frozen === 'input' ? frozenInput() : frozenInitializer;
    const { down, up, scale } = this.adapterFactors(name);
    return (this.o as LoraOps).adaptedWeight(base, down, up, scale);
  }
}
