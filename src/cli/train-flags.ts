/**
 * What every `alignkit train <objective>` shares: the flags, turning them into TrainOptions,
 * the progress display (step, loss, metrics, tokens/s, ETA) and the closing lines.
 */
import { existsSync } from 'node:fs';
import { intFlag, listFlag, numberFlag, parseFlags, requireFlag, type FlagSpec } from './args.ts';
import { stageProgressRenderer } from './stage-progress.ts';
import { inputError } from '../errors.ts';
import { readLocalCheckpoint, type LocalCheckpoint } from '../lm/load.ts';
import { defaultLoraTargets, type LoraConfig } from '../train/lora.ts';
import { defaultOptimizer, OPTIMIZERS, type OptimizerKind } from '../train/optimizer.ts';
import { SCHEDULES, type ScheduleKind } from '../train/schedule.ts';
import { train, type TrainOptions, type TrainProgress, type TrainResult } from '../train/trainer.ts';
import { writeReport } from '../report/write-report.ts';

export const trainFlagSpec: FlagSpec = {
  model: { type: 'string' },
  tokenizer: { type: 'string' },
  data: { type: 'string' },
  'eval-data': { type: 'string' },
  out: { type: 'string' },
  'lora-rank': { type: 'string' },
  'lora-alpha': { type: 'string' },
  'lora-targets': { type: 'string' },
  save: { type: 'string' },
  frozen: { type: 'string' },
  lr: { type: 'string' },
  epochs: { type: 'string' },
  steps: { type: 'string' },
  'batch-size': { type: 'string' },
  'grad-accum': { type: 'string' },
  optimizer: { type: 'string' },
  'weight-decay': { type: 'string' },
  momentum: { type: 'string' },
  'max-grad-norm': { type: 'string' },
  schedule: { type: 'string' },
  warmup: { type: 'string' },
  'max-length': { type: 'string' },
  seed: { type: 'string' },
  resume: { type: 'boolean' },
  'save-every': { type: 'string' },
  'eval-every': { type: 'string' },
  'keep-checkpoints': { type: 'string' },
  quiet: { type: 'boolean' },
};

export function parseTrainFlags(argv: string[], extra: FlagSpec = {}) {
  return parseFlags(argv, { ...trainFlagSpec, ...extra }).values;
}

/** The starting model: an HF directory or llama2.c checkpoint (a reward model directory for `rm` continuing one). */
export function loadStartModel(values: Record<string, any>): LocalCheckpoint {
  return readLocalCheckpoint(requireFlag(values, 'model'), values.tokenizer);
}

export function maxLengthOf(values: Record<string, any>, model: LocalCheckpoint): number {
  const max = intFlag(values, 'max-length', Math.min(1024, model.config.maxPositions));
  if (max < 2) throw inputError(`--max-length must be at least 2, got ${max}`, { field: 'max-length' });
  if (max > model.config.maxPositions)
    throw inputError(`--max-length ${max} is longer than the model's context (${model.config.maxPositions})`, {
      field: 'max-length',
    });
  return max;
}

function oneOf<T extends string>(values: Record<string, any>, flag: string, allowed: readonly T[], fallback: T): T {
  const v = values[flag] ?? fallback;
  if (!allowed.includes(v))
    throw inputError(`--${flag} must be one of ${allowed.join(', ')}, got "${v}"`, { field: flag });
  return v;
}

/** Everything but the objective, the model and the data. `defaultLr` is for full fine-tuning (LoRA uses 10×). */
export function commonOptions(values: Record<string, any>, model: LocalCheckpoint, defaultLr: number) {
  const out = requireFlag(values, 'out');
  const rank = intFlag(values, 'lora-rank');
  const lora: LoraConfig | undefined =
    rank === undefined
      ? undefined
      : {
          rank,
          alpha: numberFlag(values, 'lora-alpha', 2 * rank),
          targets: values['lora-targets'] ? listFlag(values, 'lora-targets') : defaultLoraTargets(model.config),
        };
  if (!lora && (values['lora-alpha'] || values['lora-targets']))
    throw inputError('--lora-alpha and --lora-targets need --lora-rank', { field: 'lora-rank' });
  const kind: OptimizerKind = oneOf(values, 'optimizer', OPTIMIZERS, 'adamw');
  const optimizer = {
    ...defaultOptimizer(kind),
    weightDecay: numberFlag(values, 'weight-decay', 0),
    momentum: numberFlag(values, 'momentum', 0),
  };
  if (values.steps !== undefined && values.epochs !== undefined)
    throw inputError('give --epochs or --steps, not both', { field: 'steps' });
  return {
    outDir: out,
    lora,
    frozen: oneOf(values, 'frozen', ['initializer', 'input'] as const, 'initializer'),
    save: oneOf(values, 'save', ['merged', 'adapter', 'both'] as const, 'both'),
    optimizer,
    lr: numberFlag(values, 'lr', lora ? defaultLr * 10 : defaultLr),
    schedule: oneOf<ScheduleKind>(values, 'schedule', SCHEDULES, 'linear'),
    warmup: intFlag(values, 'warmup', 0),
    // HF clips at 1.0; with SGD the default is off so that one step is exactly w − lr·∇L
    maxGradNorm: numberFlag(values, 'max-grad-norm', kind === 'sgd' ? 0 : 1),
    batchSize: intFlag(values, 'batch-size', 8),
    gradAccum: intFlag(values, 'grad-accum', 1),
    steps: intFlag(values, 'steps'),
    epochs: numberFlag(values, 'epochs'),
    seed: intFlag(values, 'seed', 42),
    saveEvery: intFlag(values, 'save-every', 0),
    evalEvery: intFlag(values, 'eval-every', 0),
    keepCheckpoints: intFlag(values, 'keep-checkpoints', 2),
    resume: values.resume === true,
  };
}

export function requireFile(values: Record<string, any>, flag: string): string {
  const file = requireFlag(values, flag);
  if (!existsSync(file)) throw inputError('file not found', { file, field: flag });
  return file;
}

const fmt = (v: number) => (Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 1 ? v.toFixed(3) : v.toPrecision(3));

/** Shown next to the bar: loss, up to three metrics, tokens/s. */
function progressNote(p: TrainProgress, metricKeys: readonly string[]): string {
  const parts: string[] = [];
  if (p.loss !== undefined) parts.push(`loss ${fmt(p.loss)}`);
  for (const k of metricKeys) if (p.metrics?.[k] !== undefined) parts.push(`${k} ${fmt(p.metrics[k])}`);
  if (p.tokensPerSecond !== undefined) parts.push(`${p.tokensPerSecond.toFixed(0)} tok/s`);
  if (p.etaSeconds !== undefined && Number.isFinite(p.etaSeconds) && p.step < p.totalSteps)
    parts.push(`ETA ${formatDuration(p.etaSeconds)}`);
  return parts.join(' | ');
}

function formatDuration(seconds: number): string {
  const s = Math.round(seconds);
  return s >= 3600
    ? `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`
    : s >= 60
      ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`
      : `${s}s`;
}

/** Runs training with a progress display, writes the report, prints where everything went. */
export async function runTraining<Item>(
  command: string,
  options: TrainOptions<Item>,
  display: { metrics: readonly string[]; quiet?: boolean },
): Promise<TrainResult> {
  const progress = display.quiet ? undefined : stageProgressRenderer(command);
  let result: TrainResult;
  try {
    result = await train({
      ...options,
      onProgress: (p) => {
        options.onProgress?.(p);
        if (!progress) return;
        if (p.phase === 'train')
          progress.update({
            stage: 'train',
            done: p.step,
            total: p.totalSteps,
            note: progressNote(p, display.metrics),
          });
        else if (p.phase === 'eval')
          progress.update({ stage: 'evaluate', done: 0, total: 1, note: `held-out set at step ${p.step}` });
      },
    });
  } finally {
    progress?.stop();
  }
  const report = writeReport(options.outDir);
  if (!display.quiet) {
    const line = (label: string, m?: Record<string, number>) =>
      m &&
      console.log(
        `${label.padEnd(18)} ${Object.entries(m)
          .map(([k, v]) => `${k} ${fmt(v)}`)
          .join(', ')}`,
      );
    line(`step ${result.steps}`, result.final);
    line('held-out before', result.evalBefore);
    line('held-out after', result.evalAfter);
    if (result.modelDir) console.log(`model              ${result.modelDir}`);
    if (result.adapterDir) console.log(`adapter            ${result.adapterDir}`);
    console.log(`metrics            ${options.outDir}/metrics.jsonl`);
    console.log(`report             ${report}`);
  }
  return result;
}
