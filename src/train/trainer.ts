/**
 * The training loop shared by every objective: batches in a seeded, length-bucketed order;
 * micro-batches whose gradients accumulate into one optimizer step (each micro-batch loss is
 * divided by the whole step's normalizer, so accumulation is exact); global-norm clipping; the
 * schedule; metrics streamed to OUT/metrics.jsonl; atomic checkpoints that --resume continues
 * from with the same optimizer state and data order; a stop with a clear error on a non-finite
 * loss or gradient, before the bad step touches the weights.
 */
import { existsSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AlignkitError, inputError } from '../errors.ts';
import { GraphSession, type Feed, type Fetched } from '../engine/session.ts';
import type { ModelConfig } from '../models/config.ts';
import type { QuantizedWeights, Weights } from '../models/weights.ts';
import type { Tokenizer } from '../tokenizers/tokenizer.ts';
import { appendJsonl, readJsonlForResume } from '../util/jsonl.ts';
import { writeJsonAtomic } from '../util/atomic-write.ts';
import { versions } from '../run/run-dir.ts';
import type { Summary } from '../run/summary.ts';
import { listCheckpoints, readCheckpoint, saveCheckpoint, type TrainerState } from './checkpoint.ts';
import { epochBatches } from './data/batches.ts';
import { baseShapes, initAdapters, mergeAdapters, type LoraConfig } from './lora.ts';
import {
  readAdapters,
  readRewardModel,
  writeAdapters,
  writeLanguageModel,
  writeRewardModel,
} from './model-directory.ts';
import type { MetricSums, Objective } from './objective.ts';
import { clipScale, globalNorm, Optimizer, type OptimizerConfig, type Parameter } from './optimizer.ts';
import { checkSchedule, learningRate, type ScheduleKind } from './schedule.ts';
import {
  buildTrainGraph,
  gradOutputName,
  LOSS_OUTPUT,
  trainingSessionOptions,
  type TrainGraph,
} from './train-graph.ts';
import type { FrozenPlacement, TrainableSpec } from './training-parameters.ts';
import { readHfDirectory } from '../models/hf-directory.ts';
import { trainingSummary } from './training-summary.ts';
import { SCORE_WEIGHT } from './reward-objective.ts';

export const METRICS_FILE = 'metrics.jsonl';
export const FINAL_MODEL_DIR = 'model';
export const FINAL_ADAPTER_DIR = 'adapter';

export interface TrainProgress {
  phase: 'train' | 'eval' | 'checkpoint' | 'done';
  step: number;
  totalSteps: number;
  loss?: number;
  metrics?: Record<string, number>;
  tokensPerSecond?: number;
  etaSeconds?: number;
}

export interface TrainOptions<Item> {
  objective: Objective<Item>;
  /**
   * the starting model; `weights` may already hold objective extras (a reward head). Matrices in
   * `quantized` (a quantized GGUF file) stay block codes: LoRA only, adapters saved alone.
   */
  model: { config: ModelConfig; weights: Weights; tokenizer: Tokenizer; source: string; quantized?: QuantizedWeights };
  train: readonly Item[];
  eval?: readonly Item[];
  /** LoRA adapters instead of full fine-tuning */
  lora?: LoraConfig;
  /** where frozen weights go in LoRA graphs (default: initializer) */
  frozen?: FrozenPlacement;
  optimizer: OptimizerConfig;
  lr: number;
  schedule: ScheduleKind;
  warmup: number;
  /** 0 = no clipping */
  maxGradNorm: number;
  batchSize: number;
  gradAccum: number;
  /** number of optimizer steps; default: `epochs` passes over the data */
  steps?: number;
  epochs?: number;
  seed: number;
  outDir: string;
  /** checkpoint every N steps (0 = only at the end) */
  saveEvery: number;
  /** evaluate every N steps (0 = only before and after training) */
  evalEvery: number;
  keepCheckpoints?: number;
  resume?: boolean;
  /** LoRA runs: write the merged model, the adapters, or both (default both) */
  save?: 'merged' | 'adapter' | 'both';
  /** the saved model is a reward model (score head) rather than a causal LM */
  modelKind: 'causal-lm' | 'reward-model';
  /** recorded in config.json */
  runConfig?: Record<string, unknown>;
  /**
   * called once when a new run really starts, with its config (the run session records it);
   * default: OUT/config.json is written with the versions
   */
  startRun?: (config: Record<string, unknown>) => void;
  onProgress?: (p: TrainProgress) => void;
  /** called after each completed step (tests use it to simulate a kill) */
  afterStep?: (step: number) => void;
}

export interface TrainResult {
  steps: number;
  modelDir?: string;
  adapterDir?: string;
  /** last step's train metrics, and the evaluation before and after training */
  final: Record<string, number>;
  evalBefore?: Record<string, number>;
  evalAfter?: Record<string, number>;
  summary: Summary;
  resumedFrom?: number;
}

interface Accumulated {
  loss: number;
  tokens: number;
  sums: Record<string, number>;
  counts: Record<string, number>;
}

function addMetrics(acc: Accumulated, m: MetricSums): void {
  for (const [k, v] of Object.entries(m.sums)) {
    acc.sums[k] = (acc.sums[k] ?? 0) + v;
    acc.counts[k] = (acc.counts[k] ?? 0) + (m.counts?.[k] ?? m.count);
  }
}

const means = (acc: Accumulated) =>
  Object.fromEntries(Object.entries(acc.sums).map(([k, v]) => [k, v / Math.max(1, acc.counts[k])]));

function fingerprint<Item>(o: TrainOptions<Item>): string {
  return JSON.stringify({
    objective: o.objective.kind,
    n: o.train.length,
    lora: o.lora ?? null,
    optimizer: o.optimizer,
    lr: o.lr,
    schedule: o.schedule,
    warmup: o.warmup,
    batchSize: o.batchSize,
    gradAccum: o.gradAccum,
    steps: o.steps ?? null,
    epochs: o.epochs ?? null,
    seed: o.seed,
  });
}

export async function train<Item>(o: TrainOptions<Item>): Promise<TrainResult> {
  validate(o);
  const objective = o.objective;
  const cfg = o.model.config;
  const lengths = o.train.map((x) => objective.length(x));
  const batchesPerEpoch = Math.ceil(o.train.length / o.batchSize);
  const stepsPerEpoch = Math.ceil(batchesPerEpoch / o.gradAccum);
  const totalSteps = o.steps ?? Math.max(1, Math.round((o.epochs ?? 1) * stepsPerEpoch));
  const schedule = { kind: o.schedule, lr: o.lr, warmup: o.warmup, totalSteps };
  checkSchedule(schedule);

  // ---- weights, adapters and state: fresh or from the newest checkpoint ----
  const weights: Weights = new Map(o.model.weights);
  // a language model started from a reward/value model directory leaves its head behind
  if (o.modelKind === 'causal-lm') weights.delete(SCORE_WEIGHT);
  const extras = objective.extraWeights?.(cfg, o.seed) ?? new Map();
  for (const [n, t] of extras) if (!weights.has(n)) weights.set(n, t);
  const quantized = o.model.quantized?.size ? o.model.quantized : undefined;
  let adapters: Weights = o.lora ? initAdapters(cfg, baseShapes(weights, quantized), o.lora, o.seed) : new Map();
  let state: TrainerState = { step: 0, epoch: 0, batchInEpoch: 0, tokens: 0, seconds: 0, fingerprint: fingerprint(o) };
  let optimizer = new Optimizer(o.optimizer);
  const metricsFile = join(o.outDir, METRICS_FILE);
  const resumeFrom = o.resume ? listCheckpoints(o.outDir).pop() : undefined;
  if (!o.resume && (existsSync(metricsFile) || listCheckpoints(o.outDir).length)) {
    throw inputError(`${o.outDir} already holds a training run; pass --resume to continue it or choose another --out`, {
      field: 'out',
    });
  }
  if (resumeFrom) {
    const saved = readCheckpoint(resumeFrom.dir);
    if (saved.state.fingerprint !== state.fingerprint) {
      throw inputError(
        `the settings differ from the run being resumed in ${o.outDir} (data size, optimizer, schedule, batch or seed); resume with the same flags`,
        { field: 'resume' },
      );
    }
    state = saved.state;
    optimizer = new Optimizer(o.optimizer, saved.optimizer);
    if (o.lora) {
      const a = readAdapters(join(resumeFrom.dir, FINAL_ADAPTER_DIR));
      adapters = a.adapters;
      for (const [n, t] of a.extra) weights.set(n, t);
    } else {
      const modelDir = join(resumeFrom.dir, FINAL_MODEL_DIR);
      const loaded =
        o.modelKind === 'reward-model' ? readRewardModel(modelDir).weights : readHfDirectory(modelDir).weights;
      for (const [n, t] of loaded) weights.set(n, t);
    }
    const kept = readJsonlForResume<{ step: number }>(metricsFile).filter((r) => r.step <= state.step);
    writeFileSync(metricsFile, kept.map((r) => JSON.stringify(r) + '\n').join(''));
  } else {
    // a run killed before its first checkpoint starts over
    if (existsSync(metricsFile)) rmSync(metricsFile);
    const config = { ...o.runConfig, totalSteps };
    if (o.startRun) o.startRun(config);
    else
      writeJsonAtomic(join(o.outDir, 'config.json'), {
        ...config,
        versions: versions(),
        writtenAt: new Date().toISOString(),
      });
  }

  // ---- graphs and sessions ----
  const trainable: TrainableSpec = o.lora
    ? { full: new Set(extras.keys()), lora: { config: o.lora, adapters }, frozen: o.frozen ?? 'input', quantized }
    : { full: new Set(weights.keys()) };
  const trainGraph = buildTrainGraph(cfg, weights, trainable, objective, { gradients: true });
  const session = await GraphSession.create(
    trainGraph.graph,
    `${objective.kind} training graph`,
    trainingSessionOptions(weights, quantized),
  );
  const evalGraph = o.eval?.length
    ? buildTrainGraph(cfg, weights, trainable, objective, { gradients: false })
    : undefined;
  const evalSession = evalGraph
    ? await GraphSession.create(
        evalGraph.graph,
        `${objective.kind} evaluation graph`,
        trainingSessionOptions(weights, quantized),
      )
    : undefined;
  const tensorOf = (name: string) => adapters.get(name) ?? weights.get(name)!;
  const weightFeeds = (g: TrainGraph): Record<string, Feed> =>
    Object.fromEntries(g.weightInputs.map((n) => [n, { dims: tensorOf(n).shape, data: tensorOf(n).data }]));
  const params: Parameter[] = trainGraph.trained.map((name) => ({
    name,
    shape: tensorOf(name).shape,
    data: tensorOf(name).data,
  }));

  const evaluate = async (): Promise<Record<string, number>> => {
    const items = o.eval!;
    const normalizer = objective.normalizer(items);
    const acc: Accumulated = { loss: 0, tokens: 0, sums: {}, counts: {} };
    for (let i = 0; i < items.length; i += o.batchSize) {
      const batch = items.slice(i, i + o.batchSize);
      const out = await evalSession!.run({ ...objective.feeds(batch, normalizer), ...weightFeeds(evalGraph!) });
      acc.loss += (out[LOSS_OUTPUT].data as Float32Array)[0];
      addMetrics(acc, objective.metrics(batch, out));
    }
    return { loss: acc.loss, ...means(acc) };
  };

  const report = (record: Record<string, unknown>) => appendJsonl(metricsFile, record);
  const writeModel = (dir: string, final: boolean) => {
    const tokenizer = o.model.tokenizer;
    if (o.lora) {
      const extra: Weights = new Map([...trainable.full].map((n) => [n, weights.get(n)!]));
      // a quantized base is not widened into a float32 merged model: its adapters are the result
      const save = final && !quantized ? (o.save ?? 'both') : 'adapter';
      if (save !== 'merged')
        writeAdapters(join(dir, FINAL_ADAPTER_DIR), adapters, o.lora, {
          config: cfg,
          baseModel: o.model.source,
          taskType: o.modelKind === 'reward-model' ? 'SEQ_CLS' : 'CAUSAL_LM',
          extra,
        });
      if (save !== 'adapter') writeFullModel(join(dir, FINAL_MODEL_DIR), mergeAdapters(cfg, weights, adapters, o.lora));
    } else {
      writeFullModel(join(dir, FINAL_MODEL_DIR), weights);
    }
    function writeFullModel(path: string, w: Weights) {
      const m = { config: cfg, weights: w, tokenizer };
      if (o.modelKind === 'reward-model') writeRewardModel(path, m);
      else writeLanguageModel(path, m);
    }
  };
  const checkpoint = () => {
    o.onProgress?.({ phase: 'checkpoint', step: state.step, totalSteps });
    saveCheckpoint(o.outDir, state, optimizer.state, (dir) => writeModel(dir, false), o.keepCheckpoints ?? 2);
  };

  let evalBefore: Record<string, number> | undefined;
  if (evalSession && state.step === 0) {
    o.onProgress?.({ phase: 'eval', step: 0, totalSteps });
    evalBefore = await evaluate();
    report({ split: 'eval', step: 0, ...prefixed(evalBefore) });
  }

  // ---- the loop ----
  let last: Record<string, number> = {};
  let plan = epochBatches(lengths, o.batchSize, o.seed, state.epoch);
  const runStart = performance.now();
  // seconds from the command's start (process start) to this run's first step: graphs, session, data
  const startup = process.uptime();
  const secondsBefore = state.seconds;
  const tokensBefore = state.tokens;
  try {
    while (state.step < totalSteps) {
      if (state.batchInEpoch >= plan.length) {
        state.epoch++;
        state.batchInEpoch = 0;
        plan = epochBatches(lengths, o.batchSize, o.seed, state.epoch);
      }
      const micro = plan
        .slice(state.batchInEpoch, state.batchInEpoch + o.gradAccum)
        .map((b) => b.map((i) => o.train[i]));
      const normalizer = objective.normalizer(micro.flat());
      const acc: Accumulated = { loss: 0, tokens: 0, sums: {}, counts: {} };
      const grads = new Map<string, Float32Array>();
      for (const items of micro) {
        const out = await session.run({ ...objective.feeds(items, normalizer), ...weightFeeds(trainGraph) });
        acc.loss += (out[LOSS_OUTPUT].data as Float32Array)[0];
        acc.tokens += objective.sequences(items).reduce((a, s) => a + s.length, 0);
        addMetrics(acc, objective.metrics(items, out));
        accumulate(grads, trainGraph, out);
      }
      const stepNo = state.step + 1;
      const norm = globalNorm(grads.values());
      if (!Number.isFinite(acc.loss) || !Number.isFinite(norm)) throw nonFinite(o.outDir, stepNo, acc.loss, norm);
      const lr = learningRate(schedule, state.step);
      await optimizer.stepAsync(params, grads, lr, clipScale(norm, o.maxGradNorm));
      for (const p of params) tensorOf(p.name).data = p.data;
      state.step = stepNo;
      state.batchInEpoch += micro.length;
      state.tokens += acc.tokens;
      state.seconds = secondsBefore + (performance.now() - runStart) / 1000;
      const tokensPerSecond = (state.tokens - tokensBefore) / Math.max(1e-9, state.seconds - secondsBefore);
      last = { loss: acc.loss, ...means(acc) };
      report({
        split: 'train',
        step: state.step,
        epoch: state.epoch + state.batchInEpoch / plan.length,
        learning_rate: lr,
        grad_norm: norm,
        tokens: state.tokens,
        tokens_per_second: tokensPerSecond,
        elapsed_s: state.seconds,
        startup_s: startup,
        ...last,
      });
      o.onProgress?.({
        phase: 'train',
        step: state.step,
        totalSteps,
        loss: acc.loss,
        metrics: means(acc),
        tokensPerSecond,
        etaSeconds:
          ((state.seconds - secondsBefore) / (state.step - (resumeFrom?.step ?? 0))) * (totalSteps - state.step),
      });
      if (evalSession && o.evalEvery > 0 && state.step % o.evalEvery === 0 && state.step < totalSteps) {
        o.onProgress?.({ phase: 'eval', step: state.step, totalSteps });
        report({ split: 'eval', step: state.step, ...prefixed(await evaluate()) });
      }
      if (o.saveEvery > 0 && state.step % o.saveEvery === 0 && state.step < totalSteps) checkpoint();
      o.afterStep?.(state.step);
    }
    let evalAfter: Record<string, number> | undefined;
    if (evalSession) {
      o.onProgress?.({ phase: 'eval', step: state.step, totalSteps });
      evalAfter = await evaluate();
      report({ split: 'eval', step: state.step, ...prefixed(evalAfter) });
    }
    checkpoint();
    writeModel(o.outDir, true);
    const summary = trainingSummary(objective.kind, readJsonlForResume(metricsFile), {
      totalSteps,
      lora: o.lora,
      examples: o.train.length,
    });
    writeJsonAtomic(join(o.outDir, 'summary.json'), summary);
    o.onProgress?.({ phase: 'done', step: state.step, totalSteps, loss: last.loss });
    return {
      steps: state.step,
      modelDir: o.lora && (o.save === 'adapter' || quantized) ? undefined : join(o.outDir, FINAL_MODEL_DIR),
      adapterDir: o.lora && o.save !== 'merged' ? join(o.outDir, FINAL_ADAPTER_DIR) : undefined,
      final: last,
      evalBefore: evalBefore ?? firstEval(metricsFile),
      evalAfter,
      summary,
      resumedFrom: resumeFrom?.step,
    };
  } finally {
    await session.release();
    await evalSession?.release();
    await optimizer.close();
  }
}

/** Adds a micro-batch's gradients into the step's (the first micro-batch's arrays are taken over). */
function accumulate(grads: Map<string, Float32Array>, g: TrainGraph, out: Record<string, Fetched>): void {
  for (const name of g.trained) {
    const add = out[gradOutputName(name)].data as Float32Array;
    const sum = grads.get(name);
    if (!sum) {
      grads.set(name, add);
      continue;
    }
    for (let i = 0; i < sum.length; i++) sum[i] += add[i];
  }
}

const prefixed = (m: Record<string, number>) => Object.fromEntries(Object.entries(m).map(([k, v]) => [`eval/${k}`, v]));

function firstEval(metricsFile: string): Record<string, number> | undefined {
  const first = readJsonlForResume<Record<string, number | string>>(metricsFile).find(
    (r) => r.split === 'eval' && r.step === 0,
  );
  if (!first) return undefined;
  return Object.fromEntries(
    Object.entries(first)
      .filter(([k]) => k.startsWith('eval/'))
      .map(([k, v]) => [k.slice(5), v as number]),
  );
}

function nonFinite(outDir: string, step: number, loss: number, norm: number): AlignkitError {
  const what = !Number.isFinite(loss) ? `the loss is ${loss}` : `the gradient norm is ${norm}`;
  const good = listCheckpoints(outDir).pop();
  const keep = good
    ? `the last good checkpoint is ${good.dir} (step ${good.step})`
    : 'no checkpoint was written before it';
  return new AlignkitError(
    'numeric',
    `step ${step}: ${what}; training stopped before applying it (${keep}). Lower --lr, enable --max-grad-norm, or check the data.`,
  );
}

function validate<Item>(o: TrainOptions<Item>): void {
  const positiveInt = (v: number | undefined, flag: string) => {
    if (v !== undefined && (!Number.isInteger(v) || v <= 0))
      throw inputError(`--${flag} must be a positive integer, got ${v}`, { field: flag });
  };
  positiveInt(o.batchSize, 'batch-size');
  positiveInt(o.gradAccum, 'grad-accum');
  positiveInt(o.steps, 'steps');
  if (o.epochs !== undefined && !(o.epochs > 0))
    throw inputError(`--epochs must be positive, got ${o.epochs}`, { field: 'epochs' });
  if (!(o.maxGradNorm >= 0))
    throw inputError(`--max-grad-norm must be ≥ 0, got ${o.maxGradNorm}`, { field: 'max-grad-norm' });
  if (o.train.length === 0) throw inputError('no training examples');
  if (o.model.quantized?.size) {
    if (!o.lora)
      throw inputError(
        'holds quantized weights: full fine-tuning needs float32 weights; train LoRA adapters over the quantized base with --lora-rank R',
        { file: o.model.source, field: 'lora-rank' },
      );
    if (o.save === 'merged')
      throw inputError(
        'a quantized base is not merged into a float32 model: save the adapter (--save adapter) and apply it with --adapter DIR, or convert the base to float32 first',
        { file: o.model.source, field: 'save' },
      );
  }
  if (!o.resume && existsSync(o.outDir)) {
    const foreign = readdirSync(o.outDir).filter(
      (f) => !/^(config\.json|reference-logps\.json|metrics\.jsonl|checkpoint-\d+|run\.lock)$/.test(f),
    );
    if (foreign.length)
      throw inputError(`${o.outDir} is not empty (${foreign.slice(0, 3).join(', ')}); choose a new --out directory`, {
        field: 'out',
      });
  }
}
