import type { Matrix } from './matrix.ts';
import type { TaskKind } from './label-encoding.ts';
import { fitRidgePath, predictLinear } from './ridge-regression.ts';
import {
  argmaxRows,
  fitLogistic,
  meanLogLoss,
  predictLogistic,
  type SoftmaxClassifier,
} from './logistic-regression.ts';
import { defaultMlpTraining, predictMlp, trainMlp, type MlpTask } from './mlp-probe.ts';

/** linear = ridge regression / softmax logistic regression; mlp = one hidden ReLU layer. */
export type ProbeKind = 'linear' | 'mlp';
export const probeKinds: readonly ProbeKind[] = ['linear', 'mlp'];

/** Hyper-parameter grids searched on the validation split. */
export interface ProbeGrid {
  /** ridge λ as a multiple of the number of training items (features are standardized) */
  ridgeLambdas: number[];
  logisticL2: number[];
  mlpHidden: number[];
  mlpL2: number[];
  mlpLearningRate: number;
  mlpBatchSize: number;
  mlpMaxEpochs: number;
  mlpPatience: number;
}

export const defaultProbeGrid: ProbeGrid = {
  ridgeLambdas: [1e-4, 1e-3, 1e-2, 1e-1, 1, 10, 100],
  logisticL2: [1e-4, 1e-3, 1e-2, 1e-1, 1],
  mlpHidden: [16, 64],
  mlpL2: [1e-4, 1e-2],
  mlpLearningRate: defaultMlpTraining.learningRate,
  mlpBatchSize: defaultMlpTraining.batchSize,
  mlpMaxEpochs: defaultMlpTraining.maxEpochs,
  mlpPatience: defaultMlpTraining.patience,
};

export interface TrainedProbe {
  kind: ProbeKind;
  task: TaskKind;
  /** the chosen hyper-parameters */
  hyper: Record<string, number>;
  validationLoss: number;
  /** regression: predicted values; classification: predicted class indices */
  predict(x: Matrix): Float64Array | Int32Array;
}

/**
 * Trains a probe on standardized features, trying every grid point on the training split and
 * keeping the one with the lowest validation loss (MSE / log-loss). Deterministic for a seed.
 */
export function fitProbeOnValidation(
  kind: ProbeKind,
  task: TaskKind,
  classes: number,
  train: { x: Matrix; y: Float64Array | Int32Array },
  val: { x: Matrix; y: Float64Array | Int32Array },
  grid: ProbeGrid,
  seed: number,
): TrainedProbe {
  const candidates: TrainedProbe[] = [];
  if (kind === 'linear' && task === 'regression') {
    const path = fitRidgePath(
      train.x,
      train.y,
      grid.ridgeLambdas.map((l) => l * train.x.rows),
    );
    path.forEach((model, i) => {
      const pred = predictLinear(model, val.x);
      candidates.push({
        kind,
        task,
        hyper: { lambda: grid.ridgeLambdas[i] },
        validationLoss: mse(pred, val.y),
        predict: (x) => predictLinear(model, x),
      });
    });
  } else if (kind === 'linear') {
    let warm: SoftmaxClassifier | undefined;
    // strongest penalty first: each fit warm-starts the next (deterministic path)
    for (const l2 of [...grid.logisticL2].sort((a, b) => b - a)) {
      const model: SoftmaxClassifier = fitLogistic(train.x, train.y as Int32Array, classes, l2, warm);
      warm = model;
      candidates.push({
        kind,
        task,
        hyper: { l2 },
        validationLoss: meanLogLoss(predictLogistic(model, val.x), val.y as Int32Array, classes),
        predict: (x) => argmaxRows(predictLogistic(model, x), classes),
      });
    }
  } else {
    const mlpTask: MlpTask = task === 'regression' ? { kind: 'regression' } : { kind: 'classification', classes };
    for (const hidden of grid.mlpHidden)
      for (const l2 of grid.mlpL2) {
        const model = trainMlp(train.x, train.y, val.x, val.y, mlpTask, {
          hidden,
          l2,
          seed,
          learningRate: grid.mlpLearningRate,
          batchSize: grid.mlpBatchSize,
          maxEpochs: grid.mlpMaxEpochs,
          patience: grid.mlpPatience,
        });
        candidates.push({
          kind,
          task,
          hyper: { hidden, l2, epochs: model.bestEpoch },
          validationLoss: model.validationLoss,
          predict: (x) => (task === 'regression' ? predictMlp(model, x) : argmaxRows(predictMlp(model, x), classes)),
        });
      }
  }
  return candidates.reduce((best, c) => (c.validationLoss < best.validationLoss ? c : best));
}

function mse(pred: Float64Array, y: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < y.length; i++) s += (pred[i] - y[i]) ** 2;
  return s / y.length;
}
