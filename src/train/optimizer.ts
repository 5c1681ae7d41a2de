/**
 * Optimizers over Float32Arrays, updating the weights in place (one fused pass per tensor, so
 * memory stays at weights + gradients + state): AdamW with decoupled weight decay (PyTorch's
 * torch.optim.AdamW) and SGD (with optional momentum, weight decay added to the gradient as
 * torch.optim.SGD does). As in HF's Trainer, 1-D tensors (biases, norm weights) get no decay.
 */
import { inputError } from '../errors.ts';
import { loadAdamwKernel, type AdamwKernel } from './adamw-kernel.ts';

export type OptimizerKind = 'adamw' | 'sgd';
export const OPTIMIZERS: readonly OptimizerKind[] = ['adamw', 'sgd'];

export interface OptimizerConfig {
  kind: OptimizerKind;
  weightDecay: number;
  beta1: number;
  beta2: number;
  eps: number;
  momentum: number;
}

export const defaultOptimizer = (kind: OptimizerKind = 'adamw'): OptimizerConfig =>
  ({ kind, weightDecay: 0, beta1: 0.9, beta2: 0.999, eps: 1e-8, momentum: 0 });

export interface Parameter {
  name: string;
  shape: readonly number[];
  data: Float32Array;
}

/** Optimizer state that must survive a restart: the step count and per-tensor moments. */
export interface OptimizerState {
  step: number;
  /** AdamW: exp_avg / exp_avg_sq; SGD with momentum: momentum_buffer */
  buffers: Map<string, Float32Array>;
}

export const bufferName = (kind: string, param: string) => `${kind}.${param}`;

export function checkOptimizer(c: OptimizerConfig): void {
  if (!OPTIMIZERS.includes(c.kind)) throw inputError(`unknown optimizer "${c.kind}" (expected ${OPTIMIZERS.join(' or ')})`, { field: 'optimizer' });
  if (!(c.weightDecay >= 0)) throw inputError(`weight decay must be ≥ 0, got ${c.weightDecay}`, { field: 'weight-decay' });
  if (!(c.beta1 >= 0 && c.beta1 < 1 && c.beta2 >= 0 && c.beta2 < 1)) throw inputError('Adam betas must be in [0, 1)', { field: 'adam-betas' });
  if (!(c.momentum >= 0 && c.momentum < 1)) throw inputError(`momentum must be in [0, 1), got ${c.momentum}`, { field: 'momentum' });
}

export class Optimizer {
  readonly state: OptimizerState;
  private readonly kernel: AdamwKernel | null;

  /** `options.simd` false keeps the JS loop (the WebAssembly SIMD kernel is used where it loads). */
  constructor(readonly config: OptimizerConfig, state?: OptimizerState, options: { simd?: boolean } = {}) {
    checkOptimizer(config);
    this.state = state ?? { step: 0, buffers: new Map() };
    this.kernel = options.simd === false ? null : loadAdamwKernel();
  }

  private buffer(kind: string, p: Parameter): Float32Array {
    const key = bufferName(kind, p.name);
    let b = this.state.buffers.get(key);
    if (!b) { b = new Float32Array(p.data.length); this.state.buffers.set(key, b); }
    return b;
  }

  /** One update of every parameter with its gradient scaled by `gradScale` (clipping). */
  step(params: readonly Parameter[], grads: ReadonlyMap<string, Float32Array>, lr: number, gradScale = 1): void {
    this.state.step++;
    for (const p of params) {
      const g = grads.get(p.name);
      if (!g) continue;
      const decay = p.shape.length > 1 ? this.config.weightDecay : 0;
      if (this.config.kind === 'adamw') this.adamw(p, g, lr, gradScale, decay);
      else this.sgd(p, g, lr, gradScale, decay);
    }
  }

  private adamw(p: Parameter, g: Float32Array, lr: number, gs: number, decay: number): void {
    const { beta1: b1, beta2: b2, eps } = this.config;
    const t = this.state.step;
    const m = this.buffer('exp_avg', p);
    const v = this.buffer('exp_avg_sq', p);
    const stepSize = lr / (1 - b1 ** t);
    const invSqrtBc2 = 1 / Math.sqrt(1 - b2 ** t);
    const keep = 1 - lr * decay;
    if (this.kernel) {
      this.kernel(p.data, g, m, v, { beta1: b1, beta2: b2, stepSize, invSqrtBc2, eps, keep, gradScale: gs });
      return;
    }
    const c1 = 1 - b1, c2 = 1 - b2;
    const w = p.data;
    for (let i = 0; i < w.length; i++) {
      const gi = g[i] * gs;
      const mi = b1 * m[i] + c1 * gi;
      const vi = b2 * v[i] + c2 * gi * gi;
      m[i] = mi;
      v[i] = vi;
      w[i] = w[i] * keep - (stepSize * mi) / (Math.sqrt(vi) * invSqrtBc2 + eps);
    }
  }

  private sgd(p: Parameter, g: Float32Array, lr: number, gs: number, decay: number): void {
    const w = p.data;
    const mu = this.config.momentum;
    if (mu === 0) {
      for (let i = 0; i < w.length; i++) w[i] -= lr * (g[i] * gs + decay * w[i]);
      return;
    }
    const buf = this.buffer('momentum_buffer', p);
    const first = this.state.step === 1;
    for (let i = 0; i < w.length; i++) {
      const d = g[i] * gs + decay * w[i];
      const b = first ? d : mu * buf[i] + d;
      buf[i] = b;
      w[i] -= lr * b;
    }
  }
}

/** √(Σ g²) over all gradients, in float64 (four running sums, so the adds do not wait on each other). */
export function globalNorm(grads: Iterable<Float32Array>): number {
  let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  for (const g of grads) {
    const n4 = g.length - (g.length % 4);
    for (let i = 0; i < n4; i += 4) {
      s0 += g[i] * g[i];
      s1 += g[i + 1] * g[i + 1];
      s2 += g[i + 2] * g[i + 2];
      s3 += g[i + 3] * g[i + 3];
    }
    for (let i = n4; i < g.length; i++) s0 += g[i] * g[i];
  }
  return Math.sqrt(s0 + s1 + s2 + s3);
}

/** The factor that brings the global norm down to `maxNorm` (1 when it is already within, or maxNorm is 0 = off). */
export function clipScale(norm: number, maxNorm: number): number {
  return maxNorm > 0 && norm > maxNorm ? maxNorm / (norm + 1e-6) : 1;
}
