/**
 * Optimizers over Float32Arrays, updating the weights in place (one fused pass per tensor, so
 * memory stays at weights + gradients + state): AdamW with decoupled weight decay (PyTorch's
 * torch.optim.AdamW) and SGD (with optional momentum, weight decay added to the gradient as
 * torch.optim.SGD does). As in HF's Trainer, 1-D tensors (biases, norm weights) get no decay.
 */
import { inputError } from '../errors.ts';
import { threadCount } from '../engine/session.ts';
import { adamwModule, loadAdamwKernel, type AdamwCoefficients, type AdamwKernel } from './adamw-kernel.ts';
import { AdamwWorker, type AdamwTensors } from './parallel-adamw.ts';

/** Below this many trained values (≈ 34M) a second thread saves too little to be worth contending for a core. */
const PARALLEL_MIN_VALUES = 1 << 25;

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

export const defaultOptimizer = (kind: OptimizerKind = 'adamw'): OptimizerConfig => ({
  kind,
  weightDecay: 0,
  beta1: 0.9,
  beta2: 0.999,
  eps: 1e-8,
  momentum: 0,
});

export interface Parameter {
  name: string;
  shape: readonly number[];
  /** updated in place by step(); stepAsync() may replace it with a new array holding the update */
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
  if (!OPTIMIZERS.includes(c.kind))
    throw inputError(`unknown optimizer "${c.kind}" (expected ${OPTIMIZERS.join(' or ')})`, { field: 'optimizer' });
  if (!(c.weightDecay >= 0))
    throw inputError(`weight decay must be ≥ 0, got ${c.weightDecay}`, { field: 'weight-decay' });
  if (!(c.beta1 >= 0 && c.beta1 < 1 && c.beta2 >= 0 && c.beta2 < 1))
    throw inputError('Adam betas must be in [0, 1)', { field: 'adam-betas' });
  if (!(c.momentum >= 0 && c.momentum < 1))
    throw inputError(`momentum must be in [0, 1), got ${c.momentum}`, { field: 'momentum' });
}

export class Optimizer {
  readonly state: OptimizerState;
  private readonly kernel: AdamwKernel | null;
  private worker: AdamwWorker | null | undefined;

  /**
   * `options.simd` false keeps the JS loop (the WebAssembly SIMD kernel is used where it loads);
   * `options.threads` 1 keeps stepAsync on the main thread (default: the engine's thread count,
   * ALIGNKIT_THREADS or the cores); `options.parallelFrom` is the size (values) from which a step
   * uses two threads.
   */
  constructor(
    readonly config: OptimizerConfig,
    state?: OptimizerState,
    private readonly options: { simd?: boolean; threads?: number; parallelFrom?: number } = {},
  ) {
    checkOptimizer(config);
    this.state = state ?? { step: 0, buffers: new Map() };
    this.kernel = options.simd === false ? null : loadAdamwKernel();
  }

  private buffer(kind: string, p: Parameter): Float32Array {
    const key = bufferName(kind, p.name);
    let b = this.state.buffers.get(key);
    if (!b) {
      b = new Float32Array(p.data.length);
      this.state.buffers.set(key, b);
    }
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

  /**
   * The same update as step(); large AdamW steps run on two threads (the main thread and a
   * worker, each updating about half of the values). Parameters updated on the worker get new
   * `data` arrays, and the gradients given to it are detached.
   */
  async stepAsync(
    params: readonly Parameter[],
    grads: ReadonlyMap<string, Float32Array>,
    lr: number,
    gradScale = 1,
  ): Promise<void> {
    const withGrad = params.filter((p) => grads.has(p.name));
    const total = withGrad.reduce((a, p) => a + p.data.length, 0);
    const module =
      this.config.kind === 'adamw' &&
      this.kernel &&
      (this.options.threads ?? threadCount()) > 1 &&
      total >= (this.options.parallelFrom ?? PARALLEL_MIN_VALUES)
        ? adamwModule()
        : null;
    if (module && this.worker === undefined) {
      try {
        this.worker = new AdamwWorker(module);
      } catch {
        this.worker = null;
      }
    }
    if (!module || !this.worker) return this.step(params, grads, lr, gradScale);
    this.state.step++;
    // largest first, each to the lighter side
    const [here, there]: Parameter[][] = [[], []];
    const load = [0, 0];
    for (const p of [...withGrad].sort((a, b) => b.data.length - a.data.length)) {
      const side = load[0] <= load[1] ? 0 : 1;
      (side ? there : here).push(p);
      load[side] += p.data.length;
    }
    const sent: AdamwTensors[] = there.map((p) => ({
      w: p.data,
      g: grads.get(p.name)!,
      m: this.buffer('exp_avg', p),
      v: this.buffer('exp_avg_sq', p),
      c: this.adamwCoefficients(p, lr, gradScale),
    }));
    const done = this.worker.run(sent);
    for (const p of here)
      this.adamw(p, grads.get(p.name)!, lr, gradScale, p.shape.length > 1 ? this.config.weightDecay : 0);
    const back = await done;
    there.forEach((p, i) => {
      p.data = back[i].w;
      this.state.buffers.set(bufferName('exp_avg', p.name), back[i].m);
      this.state.buffers.set(bufferName('exp_avg_sq', p.name), back[i].v);
    });
  }

  async close(): Promise<void> {
    await this.worker?.close();
    this.worker = undefined;
  }

  private adamwCoefficients(p: Parameter, lr: number, gradScale: number): AdamwCoefficients {
    const { beta1, beta2, eps } = this.config;
    const t = this.state.step;
    const decay = p.shape.length > 1 ? this.config.weightDecay : 0;
    return {
      beta1,
      beta2,
      eps,
      stepSize: lr / (1 - beta1 ** t),
      invSqrtBc2: 1 / Math.sqrt(1 - beta2 ** t),
      keep: 1 - lr * decay,
      gradScale,
    };
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
    const c1 = 1 - b1,
      c2 = 1 - b2;
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
  let s0 = 0,
    s1 = 0,
    s2 = 0,
    s3 = 0;
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
