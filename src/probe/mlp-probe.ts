import type { Matrix } from './matrix.ts';
import { createRng } from '../util/random.ts';
import { meanLogLoss, softmaxInPlace } from './logistic-regression.ts';

export type MlpTask = { kind: 'regression' } | { kind: 'classification'; classes: number };

export interface MlpConfig {
  hidden: number;
  /** L2 penalty (α/2)·‖W‖² added to the mean loss (biases unpenalized) */
  l2: number;
  learningRate: number;
  batchSize: number;
  maxEpochs: number;
  /** stop after this many epochs without a better validation loss */
  patience: number;
  seed: number;
}

export const defaultMlpTraining = { learningRate: 3e-3, batchSize: 32, maxEpochs: 300, patience: 20 } as const;

/** A one-hidden-layer ReLU network; regression targets are modelled standardized. */
export interface MlpProbe {
  task: MlpTask;
  inputs: number;
  hidden: number;
  outputs: number;
  w1: Float64Array; // inputs × hidden
  b1: Float64Array;
  w2: Float64Array; // hidden × outputs
  b2: Float64Array;
  targetMean: number;
  targetScale: number;
  config: MlpConfig;
  /** epochs run and the epoch whose weights were kept */
  epochs: number;
  bestEpoch: number;
  validationLoss: number;
}

/**
 * Trains with Adam on mini-batches (seeded order and init), MSE for regression or softmax
 * cross-entropy for classification, keeping the weights of the epoch with the lowest
 * validation loss (early stopping).
 */
export function trainMlp(
  train: Matrix,
  trainY: ArrayLike<number>,
  val: Matrix,
  valY: ArrayLike<number>,
  task: MlpTask,
  config: MlpConfig,
): MlpProbe {
  const rng = createRng(config.seed);
  const d = train.cols,
    h = config.hidden,
    k = task.kind === 'regression' ? 1 : task.classes;
  let targetMean = 0,
    targetScale = 1;
  if (task.kind === 'regression') {
    for (let i = 0; i < trainY.length; i++) targetMean += trainY[i];
    targetMean /= trainY.length;
    let v = 0;
    for (let i = 0; i < trainY.length; i++) v += (trainY[i] - targetMean) ** 2;
    targetScale = Math.sqrt(v / trainY.length) || 1;
  }
  const model: MlpProbe = {
    task,
    inputs: d,
    hidden: h,
    outputs: k,
    w1: Float64Array.from({ length: d * h }, () => rng.normal() * Math.sqrt(2 / d)),
    b1: new Float64Array(h),
    w2: Float64Array.from({ length: h * k }, () => rng.normal() * Math.sqrt(1 / h)),
    b2: new Float64Array(k),
    targetMean,
    targetScale,
    config,
    epochs: 0,
    bestEpoch: 0,
    validationLoss: Infinity,
  };
  const params = [model.w1, model.b1, model.w2, model.b2];
  const penalized = [true, false, true, false];
  const grads = params.map((p) => new Float64Array(p.length));
  const m1 = params.map((p) => new Float64Array(p.length));
  const m2 = params.map((p) => new Float64Array(p.length));
  const beta1 = 0.9,
    beta2 = 0.999,
    eps = 1e-8;
  let step = 0;
  let best = params.map((p) => Float64Array.from(p));
  let bestLoss = validationLoss(model, val, valY);
  let sinceBest = 0;
  const bs = Math.min(config.batchSize, train.rows);
  const hid = new Float64Array(bs * h),
    out = new Float64Array(bs * k),
    dHid = new Float64Array(bs * h);

  for (let epoch = 1; epoch <= config.maxEpochs; epoch++) {
    const order = rng.shuffle(Array.from({ length: train.rows }, (_, i) => i));
    for (let start = 0; start < order.length; start += bs) {
      const batch = order.slice(start, start + bs);
      const b = batch.length;
      forward(model, train, batch, hid, out);
      // output gradient of the mean loss over the batch
      for (let r = 0; r < b; r++) {
        const i = batch[r];
        if (task.kind === 'regression') out[r] = (out[r] - (trainY[i] - targetMean) / targetScale) / b;
        else {
          softmaxInPlace(out, r * k, k);
          out[r * k + trainY[i]] -= 1;
          for (let c = 0; c < k; c++) out[r * k + c] /= b;
        }
      }
      const [gw1, gb1, gw2, gb2] = grads;
      for (const g of grads) g.fill(0);
      for (let r = 0; r < b; r++) {
        for (let j = 0; j < h; j++) {
          const hv = hid[r * h + j];
          let dh = 0;
          for (let c = 0; c < k; c++) {
            const go = out[r * k + c];
            gw2[j * k + c] += hv * go;
            dh += go * model.w2[j * k + c];
          }
          dHid[r * h + j] = hv > 0 ? dh : 0;
        }
        for (let c = 0; c < k; c++) gb2[c] += out[r * k + c];
        const row = batch[r] * d;
        for (let p = 0; p < d; p++) {
          const xv = train.data[row + p];
          if (xv === 0) continue;
          const w = p * h;
          for (let j = 0; j < h; j++) gw1[w + j] += xv * dHid[r * h + j];
        }
        for (let j = 0; j < h; j++) gb1[j] += dHid[r * h + j];
      }
      step++;
      const c1 = 1 - beta1 ** step,
        c2 = 1 - beta2 ** step;
      for (let t = 0; t < params.length; t++) {
        const p = params[t],
          g = grads[t],
          a = m1[t],
          v = m2[t];
        for (let q = 0; q < p.length; q++) {
          const gq = penalized[t] ? g[q] + config.l2 * p[q] : g[q];
          a[q] = beta1 * a[q] + (1 - beta1) * gq;
          v[q] = beta2 * v[q] + (1 - beta2) * gq * gq;
          p[q] -= (config.learningRate * (a[q] / c1)) / (Math.sqrt(v[q] / c2) + eps);
        }
      }
    }
    model.epochs = epoch;
    const loss = validationLoss(model, val, valY);
    if (loss < bestLoss - 1e-9) {
      bestLoss = loss;
      best = params.map((p) => Float64Array.from(p));
      model.bestEpoch = epoch;
      sinceBest = 0;
    } else if (++sinceBest >= config.patience) break;
  }
  params.forEach((p, t) => p.set(best[t]));
  model.validationLoss = bestLoss;
  return model;
}

function forward(model: MlpProbe, x: Matrix, rows: readonly number[], hid: Float64Array, out: Float64Array): void {
  const { inputs: d, hidden: h, outputs: k, w1, b1, w2, b2 } = model;
  for (let r = 0; r < rows.length; r++) {
    const row = rows[r] * d,
      ho = r * h;
    for (let j = 0; j < h; j++) hid[ho + j] = b1[j];
    for (let p = 0; p < d; p++) {
      const xv = x.data[row + p];
      if (xv === 0) continue;
      const w = p * h;
      for (let j = 0; j < h; j++) hid[ho + j] += xv * w1[w + j];
    }
    for (let j = 0; j < h; j++) if (hid[ho + j] < 0) hid[ho + j] = 0;
    for (let c = 0; c < k; c++) {
      let s = b2[c];
      for (let j = 0; j < h; j++) s += hid[ho + j] * w2[j * k + c];
      out[r * k + c] = s;
    }
  }
}

/** Raw network outputs for every row: standardized predictions (regression) or logits. */
function outputs(model: MlpProbe, x: Matrix): Float64Array {
  const rows = Array.from({ length: x.rows }, (_, i) => i);
  const out = new Float64Array(x.rows * model.outputs);
  forward(model, x, rows, new Float64Array(x.rows * model.hidden), out);
  return out;
}

/** Regression: predictions in label units. Classification: probabilities [rows × classes]. */
export function predictMlp(model: MlpProbe, x: Matrix): Float64Array {
  const out = outputs(model, x);
  if (model.task.kind === 'regression') return out.map((v) => v * model.targetScale + model.targetMean);
  for (let i = 0; i < x.rows; i++) softmaxInPlace(out, i * model.outputs, model.outputs);
  return out;
}

/** Mean squared error in standardized units (regression) or mean log-loss (classification). */
function validationLoss(model: MlpProbe, x: Matrix, y: ArrayLike<number>): number {
  if (model.task.kind === 'classification')
    return meanLogLoss(predictMlp(model, x), Int32Array.from(y as ArrayLike<number>), model.outputs);
  const out = outputs(model, x);
  let s = 0;
  for (let i = 0; i < x.rows; i++) s += (out[i] - (y[i] - model.targetMean) / model.targetScale) ** 2;
  return s / x.rows;
}
