/**
 * A training run as `alignkit train sft|rm|value|dpo` does it: the starting checkpoint and the
 * data read and checked, the run folder taken (lock, resume identity), the trainer run with
 * progress, the report rendered. One function per objective; they share everything but the
 * objective and the data format.
 */
import { join } from 'node:path';
import { inputError } from '../errors.ts';
import { readTrainableCheckpoint, type LocalCheckpoint } from '../lm/load.ts';
import { finishRun } from '../report/finish-run.ts';
import type { Progress } from '../run/progress.ts';
import { RunSession, type RunTarget } from '../run/run-session.ts';
import type { DataStats } from './data/load-sft.ts';
import { loadPreferenceData } from './data/load-preferences.ts';
import { loadSftData } from './data/load-sft.ts';
import { loadValueData } from './data/load-value.ts';
import { dpoObjective } from './dpo-objective.ts';
import { lengthRegularization } from './length-regularized.ts';
import { defaultLoraTargets, type LoraConfig } from './lora.ts';
import type { Objective } from './objective.ts';
import { defaultOptimizer, type OptimizerKind } from './optimizer.ts';
import { attachReferenceLogps } from './reference-logps.ts';
import { rewardObjective } from './reward-objective.ts';
import type { ScheduleKind } from './schedule.ts';
import { sftObjective } from './sft-objective.ts';
import { train, type TrainOptions, type TrainProgress, type TrainResult } from './trainer.ts';
import { valueObjective } from './value-objective.ts';

/** Everything about a training run but the objective, the model and the data. */
export interface TrainingSettings {
  /** default: the objective's (sft 2e-5, rm 1e-5, value 1e-4, dpo 1e-6), ×10 with LoRA */
  lr?: number;
  /** passes over the data (default 1); or `steps` optimizer steps */
  epochs?: number;
  steps?: number;
  batchSize: number;
  gradAccum: number;
  optimizer: OptimizerKind;
  weightDecay: number;
  momentum: number;
  /** global-norm clipping, 0 = off (default 1, 0 with SGD so that one step is exactly w − lr·∇L) */
  maxGradNorm?: number;
  schedule: ScheduleKind;
  warmup: number;
  /** tokens per example (default: the model's context, at most 1024) */
  maxLength?: number;
  seed: number;
  /** LoRA adapters of this rank instead of full fine-tuning */
  loraRank?: number;
  loraAlpha?: number;
  loraTargets?: readonly string[];
  /** LoRA graphs: frozen weights as initializers (faster) or inputs */
  frozen: 'initializer' | 'input';
  /** LoRA runs: the merged model, the adapters, or both */
  save: 'merged' | 'adapter' | 'both';
  /** checkpoint / evaluate every N steps (0 = at the end / before and after only) */
  saveEvery: number;
  evalEvery: number;
  keepCheckpoints: number;
}

export const DEFAULT_TRAINING: TrainingSettings = {
  batchSize: 8,
  gradAccum: 1,
  optimizer: 'adamw',
  weightDecay: 0,
  momentum: 0,
  schedule: 'linear',
  warmup: 0,
  seed: 42,
  frozen: 'initializer',
  save: 'both',
  saveEvery: 0,
  evalEvery: 0,
  keepCheckpoints: 2,
};

export interface TrainRunOptions extends RunTarget {
  /** the starting model: an HF directory or llama2.c checkpoint (a reward model directory to continue one) */
  model: string;
  /** its tokenizer when none is beside it */
  tokenizer?: string;
  /** TRL-format JSONL */
  data: string;
  /** held-out data, evaluated before, during (evalEvery) and after training */
  evalData?: string;
  training: TrainingSettings;
  /** told how each data file was read: examples, and how many were cut to fit */
  onData?: (stats: DataStats) => void;
}

export interface DpoRunOptions extends TrainRunOptions {
  beta: number;
  /** the frozen reference (default: the starting model) */
  refModel?: string;
  loss: 'sigmoid' | 'hinge';
  /** iLR-DPO's length term α·(|y_w| − |y_l|) (0 = plain DPO) */
  lengthAlpha: number;
}

export interface TrainRunResult extends TrainResult {
  outDir: string;
  reportPath: string;
}

/** --max-length checked against the model (default: its context, at most 1024). */
export function maxLengthFor(model: LocalCheckpoint, asked: number | undefined): number {
  const max = asked ?? Math.min(1024, model.config.maxPositions);
  if (max < 2) throw inputError(`--max-length must be at least 2, got ${max}`, { field: 'max-length' });
  if (max > model.config.maxPositions)
    throw inputError(`--max-length ${max} is longer than the model's context (${model.config.maxPositions})`, {
      field: 'max-length',
    });
  return max;
}

/** The trainer's options from the settings: LoRA, optimizer, schedule, steps. */
export function trainerSettings(
  model: LocalCheckpoint,
  s: TrainingSettings,
  defaultLr: number,
  outDir: string,
  resume: boolean,
) {
  const lora: LoraConfig | undefined =
    s.loraRank === undefined
      ? undefined
      : {
          rank: s.loraRank,
          alpha: s.loraAlpha ?? 2 * s.loraRank,
          targets: s.loraTargets?.length ? [...s.loraTargets] : defaultLoraTargets(model.config),
        };
  if (!lora && (s.loraAlpha !== undefined || s.loraTargets?.length))
    throw inputError('--lora-alpha and --lora-targets need --lora-rank', { field: 'lora-rank' });
  if (s.steps !== undefined && s.epochs !== undefined)
    throw inputError('give --epochs or --steps, not both', { field: 'steps' });
  return {
    outDir,
    lora,
    frozen: s.frozen,
    save: s.save,
    optimizer: { ...defaultOptimizer(s.optimizer), weightDecay: s.weightDecay, momentum: s.momentum },
    lr: s.lr ?? (lora ? defaultLr * 10 : defaultLr),
    schedule: s.schedule,
    warmup: s.warmup,
    maxGradNorm: s.maxGradNorm ?? (s.optimizer === 'sgd' ? 0 : 1),
    batchSize: s.batchSize,
    gradAccum: s.gradAccum,
    steps: s.steps,
    epochs: s.epochs,
    seed: s.seed,
    saveEvery: s.saveEvery,
    evalEvery: s.evalEvery,
    keepCheckpoints: s.keepCheckpoints,
    resume,
  };
}

const fmt = (v: number) => (Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 1 ? v.toFixed(3) : v.toPrecision(3));

/** A trainer progress event as the run's progress: the step, and loss, up to three metrics and tokens/s as its note. */
export function trainingProgress(p: TrainProgress, metricKeys: readonly string[]): Progress | undefined {
  if (p.phase === 'eval') return { stage: 'evaluate', done: 0, total: 1, note: `held-out set at step ${p.step}` };
  if (p.phase !== 'train') return undefined;
  const parts: string[] = [];
  if (p.loss !== undefined) parts.push(`loss ${fmt(p.loss)}`);
  for (const k of metricKeys) if (p.metrics?.[k] !== undefined) parts.push(`${k} ${fmt(p.metrics[k])}`);
  if (p.tokensPerSecond !== undefined) parts.push(`${p.tokensPerSecond.toFixed(0)} tok/s`);
  return { stage: 'train', done: p.step, total: p.totalSteps, note: parts.join(' | '), etaSeconds: p.etaSeconds };
}

interface Prepared<Item> {
  objective: Objective<Item>;
  train: readonly Item[];
  eval?: readonly Item[];
  modelKind: TrainOptions<Item>['modelKind'];
  /** recorded in config.json besides the settings */
  config: Record<string, unknown>;
  /** metrics shown next to the progress bar */
  metrics: readonly string[];
  /** work before training that needs the run folder (DPO's reference log-probs) */
  beforeTraining?: (session: RunSession) => Promise<unknown>;
}

/** The run every objective shares: checkpoint read, data prepared, folder taken, trainer run, report written. */
async function trainingRun<Item>(
  command: string,
  o: TrainRunOptions,
  defaultLr: number,
  prepare: (model: LocalCheckpoint, maxLength: number) => Prepared<Item>,
): Promise<TrainRunResult> {
  const model = readTrainableCheckpoint(o.model, o.tokenizer, { lora: o.training.loraRank !== undefined });
  const maxLength = maxLengthFor(model, o.training.maxLength);
  const settings = trainerSettings(model, o.training, defaultLr, o.out, o.resume ?? false);
  const prepared = prepare(model, maxLength);
  const session = RunSession.open({ ...o, command });
  try {
    await prepared.beforeTraining?.(session);
    const result = await train({
      ...settings,
      objective: prepared.objective,
      model,
      train: prepared.train,
      eval: prepared.eval,
      modelKind: prepared.modelKind,
      runConfig: {
        command,
        model: o.model,
        data: o.data,
        evalData: o.evalData ?? null,
        maxLength,
        ...prepared.config,
        ...settings,
      },
      startRun: (config) => session.start(config),
      onProgress: (p) => {
        const progress = trainingProgress(p, prepared.metrics);
        if (progress) session.progress(progress);
      },
    });
    return { ...result, outDir: o.out, reportPath: finishRun(session.folder, result.summary).reportPath };
  } finally {
    await session.close();
  }
}

/** Reads the training and held-out files with `load`, telling `onData` what was read. */
function readData<T extends { stats: DataStats }>(o: TrainRunOptions, load: (file: string) => T): [T, T | undefined] {
  const data = load(o.data);
  const evalData = o.evalData ? load(o.evalData) : undefined;
  for (const stats of [data.stats, evalData?.stats]) if (stats) o.onData?.(stats);
  return [data, evalData];
}

/** `alignkit train sft`: supervised fine-tuning on TRL-format JSONL (prompt tokens masked). */
export function trainSft(o: TrainRunOptions): Promise<TrainRunResult> {
  return trainingRun('train sft', o, 2e-5, (model, maxLength) => {
    const [data, evalData] = readData(o, (f) => loadSftData(f, model.tokenizer, { maxLength }));
    return {
      objective: sftObjective(),
      train: data.examples,
      eval: evalData?.examples,
      modelKind: 'causal-lm',
      config: { data_stats: data.stats },
      metrics: [],
    };
  });
}

/** `alignkit train rm`: a Bradley-Terry reward model on preference pairs (scalar head at the last token). */
export function trainRewardModel(o: TrainRunOptions): Promise<TrainRunResult> {
  return trainingRun('train rm', o, 1e-5, (model, maxLength) => {
    const [data, evalData] = readData(o, (f) => loadPreferenceData(f, model.tokenizer, { maxLength }));
    return {
      objective: rewardObjective(),
      train: data.pairs,
      eval: evalData?.pairs,
      modelKind: 'reward-model',
      config: { data_stats: data.stats },
      metrics: ['accuracy', 'rewards/margins'],
    };
  });
}

/** `alignkit train value`: IVG's value model — a scalar head regressed on the final reward at every prefix. */
export function trainValueModel(o: TrainRunOptions): Promise<TrainRunResult> {
  return trainingRun('train value', o, 1e-4, (model, maxLength) => {
    const [data, evalData] = readData(o, (f) => loadValueData(f, model.tokenizer, { maxLength }));
    return {
      objective: valueObjective(),
      train: data.examples,
      eval: evalData?.examples,
      modelKind: 'reward-model',
      config: { data_stats: data.stats },
      metrics: ['mse', 'mse/full_response'],
    };
  });
}

/** `alignkit train dpo`: DPO against reference log-probs computed once (OUT/reference-logps.json). */
export function trainDpo(o: DpoRunOptions): Promise<TrainRunResult> {
  if (!(o.beta > 0)) throw inputError(`--beta must be positive, got ${o.beta}`, { field: 'beta' });
  const lengthTerm = lengthRegularization(o.lengthAlpha);
  return trainingRun('train dpo', o, 1e-6, (model, maxLength) => {
    const [data, evalData] = readData(o, (f) => loadPreferenceData(f, model.tokenizer, { maxLength }));
    const reference = o.refModel
      ? readTrainableCheckpoint(o.refModel, o.tokenizer, { lora: o.training.loraRank !== undefined })
      : model;
    if (JSON.stringify(reference.config) !== JSON.stringify(model.config))
      throw inputError('--ref-model must have the same architecture and vocabulary as --model', { field: 'ref-model' });
    const pairs = [...data.pairs, ...(evalData?.pairs ?? [])];
    return {
      objective: dpoObjective({ beta: o.beta, loss: o.loss, ...lengthTerm }),
      train: data.pairs,
      eval: evalData?.pairs,
      modelKind: 'causal-lm',
      config: {
        refModel: o.refModel ?? o.model,
        beta: o.beta,
        loss: o.loss,
        lengthAlpha: o.lengthAlpha,
        data_stats: data.stats,
      },
      metrics: ['rewards/accuracies', 'rewards/margins'],
      beforeTraining: (session) =>
        attachReferenceLogps(
          reference.config,
          reference.weights,
          pairs,
          join(o.out, 'reference-logps.json'),
          (done, total) => session.progress({ stage: 'reference log-probs', done, total }),
          reference.quantized,
        ),
    };
  });
}
