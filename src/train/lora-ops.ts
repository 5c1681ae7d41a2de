/**
 * Ops for graphs with LoRA layers. The model builders multiply activations by a weight value;
 * for an adapted weight that value is W + s·(B·A) (kept correct for any other use), but a
 * matmul by it is emitted as x·W + s·((x·Aᵀ)·Bᵀ), so neither the forward nor the backward pass
 * ever forms or differentiates a full-size weight.
 */
import type { Value } from '../engine/graph.ts';
import { TrainingOps } from './training-ops.ts';

interface LowRank {
  /** frozen weight [in, out] */
  base: Value;
  /** Aᵀ [in, r] and Bᵀ [r, out] */
  down: Value;
  up: Value;
  scale: number;
}

export class LoraOps extends TrainingOps {
  private readonly lowRank = new Map<number, LowRank>();

  /** The effective weight [in, out] of a LoRA layer, recognized by matmul. */
  adaptedWeight(base: Value, down: Value, up: Value, scale: number): Value {
    const merged = this.add(base, this.mul(super.matmul(down, up), this.scalar(scale)));
    this.lowRank.set(merged.id, { base, down, up, scale });
    return merged;
  }

  override matmul(a: Value, b: Value): Value {
    const l = this.lowRank.get(b.id);
    if (!l) return super.matmul(a, b);
    return this.withLowRank(super.matmul(a, l.base), a, l.down, l.up, l.scale);
  }

  /** base + s·((x·Aᵀ)·Bᵀ): the adapter's term added to the frozen product `base` = x·W. */
  withLowRank(base: Value, x: Value, down: Value, up: Value, scale: number): Value {
    const low = this.mul(super.matmul(x, down), this.scalar(scale));
    return this.add(base, super.matmul(low, up));
  }
}
