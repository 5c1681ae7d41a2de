/**
 * Training speed and memory figures for `alignkit bench`: one training step (forward, backward
 * and AdamW) of a llama-shaped and a GPT-2-small-shaped model on random tokens, DPO against SFT
 * on the same tokens, and the peak memory of full fine-tuning against LoRA, and of LoRA over a
 * q8_0 / q4_0 GGUF base (QLoRA) against the same file at f32 (each measured in a child process,
 * since a process's peak RSS only grows). Returns figures; printing is the CLI's.
 * scripts/bench-train-torch.py measures the same steps in PyTorch for comparison.
 */
import type { Figure } from '../util/bench-figure.ts';
import { median } from '../util/bench-figure.ts';
import { runTorchScript, torchPython } from '../util/torch-script.ts';
import { runTsChild, siblingModule } from '../util/ts-child.ts';
import { GraphSession, type Feed } from '../engine/session.ts';
import type { ModelConfig } from '../models/config.ts';
import { randomInitWeights } from '../models/random-init.ts';
import type { QuantizedWeights, Weights } from '../models/weights.ts';
import type { GgufPrecision } from '../models/gguf/gguf-model.ts';
import { createRng } from '../util/random.ts';
import { dpoObjective } from './dpo-objective.ts';
import type { PreferencePair, SftExample } from './examples.ts';
import { baseShapes, initAdapters, type LoraConfig } from './lora.ts';
import type { Objective } from './objective.ts';
import { clipScale, defaultOptimizer, globalNorm, Optimizer, type Parameter } from './optimizer.ts';
import { sftObjective } from './sft-objective.ts';
import { buildTrainGraph, gradOutputName, LOSS_OUTPUT, trainingSessionOptions } from './train-graph.ts';
import type { FrozenPlacement, TrainableSpec } from './training-parameters.ts';

export interface BenchShape {
  name: string;
  config: ModelConfig;
  batch: number;
  seq: number;
}

const base = {
  ropeTheta: 10000,
  tieWordEmbeddings: false,
  slidingWindow: null,
  bosTokenId: 1,
  eosTokenId: 2,
  torchDtype: 'float32',
};

export const BENCH_SHAPES: Record<'llama' | 'gpt2', BenchShape> = {
  llama: {
    name: 'llama-shaped (d 256, 4 layers, 4 heads, FFN 1024, vocab 32000)',
    batch: 8,
    seq: 128,
    config: {
      ...base,
      family: 'llama',
      architecture: 'LlamaForCausalLM',
      vocabSize: 32000,
      hiddenSize: 256,
      numLayers: 4,
      numHeads: 4,
      numKvHeads: 4,
      headDim: 64,
      intermediateSize: 1024,
      maxPositions: 512,
      normEps: 1e-5,
      attentionBias: false,
    },
  },
  gpt2: {
    name: 'GPT-2-small-shaped (d 768, 12 layers, 12 heads, FFN 3072, vocab 50257)',
    batch: 8,
    seq: 128,
    config: {
      ...base,
      family: 'gpt2',
      architecture: 'GPT2LMHeadModel',
      vocabSize: 50257,
      hiddenSize: 768,
      numLayers: 12,
      numHeads: 12,
      numKvHeads: 12,
      headDim: 64,
      intermediateSize: 3072,
      maxPositions: 1024,
      normEps: 1e-5,
      attentionBias: true,
      tieWordEmbeddings: true,
    },
  },
};

/**
 * The QLoRA memory figure's model: large enough that its weights, not the runtime or the
 * activations of its one 128-token sequence, set the peak (131M parameters: 524 MB at float32).
 */
export const QLORA_SHAPE: BenchShape = {
  name: 'llama-shaped (d 1024, 6 layers, GQA 16/4 heads, FFN 2816, vocab 32000), 1×128 tokens',
  batch: 1,
  seq: 128,
  config: {
    ...BENCH_SHAPES.llama.config,
    hiddenSize: 1024,
    numLayers: 6,
    numHeads: 16,
    numKvHeads: 4,
    headDim: 64,
    intermediateSize: 2816,
  },
};

/** The tokens of a QLoRA step over a given file (the 8B bench's): one 64-token sequence; the file's config replaces QLORA_SHAPE's. */
export const QLORA_FILE_SHAPE: BenchShape = { ...QLORA_SHAPE, name: '1×64 tokens', seq: 64 };

export interface StepTiming {
  /** median and min over the timed steps, milliseconds */
  medianMs: number;
  minMs: number;
  /** of which the optimizer update (median) */
  optimizerMs: number;
  steps: number;
  tokensPerSecond: number;
}

interface StepSetup<Item> {
  shape: BenchShape;
  objective: Objective<Item>;
  items: Item[];
  lora?: LoraConfig;
  frozen?: FrozenPlacement;
  /** a quantized base's matrices, held as block codes (QLoRA) */
  quantized?: QuantizedWeights;
}

/** Random token sequences of the shape's length. */
function randomSequences(shape: BenchShape, count: number, seed: number): number[][] {
  const rng = createRng(seed);
  return Array.from({ length: count }, () =>
    Array.from({ length: shape.seq }, () => 3 + rng.int(shape.config.vocabSize - 3)),
  );
}

/** The shape's batch as SFT examples (one BOS-like prompt token, the rest scored). */
export function sftBatch(shape: BenchShape, promptLength = 1): SftExample[] {
  return randomSequences(shape, shape.batch, 1).map((s) => ({
    promptIds: s.slice(0, promptLength),
    responseIds: s.slice(promptLength),
    file: 'bench',
    line: 0,
    truncated: false,
  }));
}

/** The same tokens as preference pairs: batch/2 pairs whose 2 responses follow a shared prompt. */
export function dpoBatch(shape: BenchShape, promptLength: number): PreferencePair[] {
  const seqs = randomSequences(shape, shape.batch, 1);
  return Array.from({ length: shape.batch / 2 }, (_, i) => ({
    promptIds: seqs[i].slice(0, promptLength),
    chosenIds: seqs[i].slice(promptLength),
    rejectedIds: seqs[i + shape.batch / 2].slice(promptLength),
    refChosen: -100,
    refRejected: -100,
    file: 'bench',
    line: 0,
    truncated: false,
  }));
}

/** One setup ready to train: a step is one run of its graph and one AdamW update. */
interface StepRunner {
  step(): Promise<{ totalMs: number; optimizerMs: number }>;
  tokens: number;
  release(): Promise<void>;
}

async function prepareSteps<Item>(setup: StepSetup<Item>, weights: Weights): Promise<StepRunner> {
  const cfg = setup.shape.config;
  const adapters = setup.lora ? initAdapters(cfg, baseShapes(weights, setup.quantized), setup.lora, 0) : new Map();
  const trainable: TrainableSpec = setup.lora
    ? { full: new Set(), lora: { config: setup.lora, adapters }, frozen: setup.frozen, quantized: setup.quantized }
    : { full: new Set(weights.keys()) };
  const graph = buildTrainGraph(cfg, weights, trainable, setup.objective, { gradients: true });
  const session = await GraphSession.create(
    graph.graph,
    'bench training graph',
    trainingSessionOptions(weights, setup.quantized),
  );
  const tensorOf = (n: string) => adapters.get(n) ?? weights.get(n)!;
  const optimizer = new Optimizer({ ...defaultOptimizer('adamw'), weightDecay: 0.01 });
  const batch: Record<string, Feed> = setup.objective.feeds(setup.items, setup.objective.normalizer(setup.items));
  return {
    tokens: setup.objective.sequences(setup.items).reduce((a, s) => a + s.length, 0),
    async step() {
      // setups share the weights, and a parallel optimizer step replaces arrays: read them afresh
      const feeds: Record<string, Feed> = { ...batch };
      for (const n of graph.weightInputs) feeds[n] = { dims: tensorOf(n).shape, data: tensorOf(n).data };
      const params: Parameter[] = graph.trained.map((name) => ({
        name,
        shape: tensorOf(name).shape,
        data: tensorOf(name).data,
      }));
      const t0 = performance.now();
      const out = await session.run(feeds);
      if (!Number.isFinite((out[LOSS_OUTPUT].data as Float32Array)[0])) throw new Error('benchmark loss is not finite');
      const grads = new Map(graph.trained.map((n) => [n, out[gradOutputName(n)].data as Float32Array]));
      const t1 = performance.now();
      await optimizer.stepAsync(params, grads, 1e-4, clipScale(globalNorm(grads.values()), 1));
      const t2 = performance.now();
      for (const p of params) tensorOf(p.name).data = p.data;
      return { totalMs: t2 - t0, optimizerMs: t2 - t1 };
    },
    release: async () => {
      await session.release();
      await optimizer.close();
    },
  };
}

/**
 * Times training steps of several setups, alternating between them step by step (after
 * `warmup` untimed steps each), so that a machine shared with other work slows them alike.
 */
export async function timeTrainingSteps(
  setups: readonly StepSetup<any>[],
  options: { steps?: number; warmup?: number; weights?: Weights } = {},
): Promise<StepTiming[]> {
  const weights = options.weights ?? randomInitWeights(setups[0].shape.config, 0);
  const runners: StepRunner[] = [];
  try {
    for (const s of setups) runners.push(await prepareSteps(s, weights));
    for (let i = 0; i < (options.warmup ?? 2); i++) for (const r of runners) await r.step();
    return await timeSteps(runners, options.steps ?? 5);
  } finally {
    for (const r of runners) await r.release();
  }
}

/** Times `steps` steps of each runner, taking turns step by step. */
async function timeSteps(runners: readonly StepRunner[], steps: number): Promise<StepTiming[]> {
  const times = runners.map(() => ({ total: [] as number[], opt: [] as number[] }));
  for (let i = 0; i < steps; i++) {
    for (const [k, r] of runners.entries()) {
      const t = await r.step();
      times[k].total.push(t.totalMs);
      times[k].opt.push(t.optimizerMs);
    }
  }
  return times.map((t, k) => {
    const medianMs = median(t.total);
    return {
      medianMs,
      minMs: Math.min(...t.total),
      optimizerMs: median(t.opt),
      steps: t.total.length,
      tokensPerSecond: (runners[k].tokens / medianMs) * 1000,
    };
  });
}

/** A shape's SFT step timed in alternating rounds against PyTorch's (one PyTorch run per round). */
export interface RoundsAgainstTorch {
  /** alignkit's steps, each round's timing */
  rounds: StepTiming[];
  /** PyTorch's median ms per step in each round (empty without python and torch) */
  torchMs: number[];
}

/**
 * Times a shape's SFT step (forward, backward, AdamW) against the same step in PyTorch
 * (scripts/bench-train-torch.py: torch 1 thread, OpenBLAS at its default, its fastest setup
 * here) in `rounds` rounds: alignkit's steps, then one PyTorch run, so that both see the same
 * load on a shared machine; alignkit's session stays open across rounds, as in a training run.
 */
export async function timeAgainstTorch(
  key: keyof typeof BENCH_SHAPES,
  options: { rounds?: number; steps?: number; python?: string } = {},
): Promise<RoundsAgainstTorch> {
  const shape = BENCH_SHAPES[key];
  const steps = options.steps ?? 3;
  const python = torchPython(options.python);
  const runner = await prepareSteps(
    { shape, objective: sftObjective(), items: sftBatch(shape) },
    randomInitWeights(shape.config, 0),
  );
  const result: RoundsAgainstTorch = { rounds: [], torchMs: [] };
  try {
    for (let i = 0; i < 2; i++) await runner.step();
    for (let round = 0; round < (options.rounds ?? 2); round++) {
      result.rounds.push((await timeSteps([runner], steps))[0]);
      if (!python) continue;
      const torch = runTorchScript('bench-train-torch.py', [key, '--steps', String(steps), '--threads', '1'], python);
      if (torch) result.torchMs.push(torch.median_ms);
    }
  } finally {
    await runner.release();
  }
  return result;
}

export async function timeTrainingStep<Item>(
  setup: StepSetup<Item>,
  options: { steps?: number; warmup?: number; weights?: Weights } = {},
): Promise<StepTiming> {
  return (await timeTrainingSteps([setup], options))[0];
}

export interface MemoryFigure {
  /** peak resident memory of a process that trains one step, bytes */
  peakRss: number;
  /** float32 bytes of all weights (QLoRA: the bytes of the GGUF file's tensors) */
  weightBytes: number;
  trainedParameters: number;
  /** QLoRA children: the time of the step after a warm-up one, ms */
  stepMs?: number;
}

/** Peak RSS of one LoRA (q, v; rank 8) step over a random-weight GGUF file of QLORA_SHAPE at `precision`, in a fresh child process. */
export function measureQloraMemory(precision: GgufPrecision): Promise<MemoryFigure> {
  return runTsChild<MemoryFigure>(
    siblingModule('bench-memory-worker', import.meta.url),
    ['qlora', 'lora', 'initializer', precision],
    'QLoRA memory benchmark child',
  );
}

/**
 * One LoRA (q, v; rank 8) step over an existing quantized GGUF file (1×64 tokens, after a warm-up
 * step), in a fresh child process: its peak RSS against the file's bytes, and its time.
 */
export async function qloraStepFigures(file: string, label: string): Promise<Figure[]> {
  const m = await runTsChild<MemoryFigure>(
    siblingModule('bench-memory-worker', import.meta.url),
    ['qlora-file', 'lora', 'initializer', file],
    'QLoRA step benchmark child',
  );
  const step = `${label}: QLoRA step (LoRA q,v r=8, ${QLORA_FILE_SHAPE.name})`;
  return [
    { name: `${step}: peak RSS`, value: m.peakRss / 1e6, unit: 'MB' },
    { name: `${step}: peak RSS ÷ the file's bytes`, value: m.peakRss / m.weightBytes, unit: '×' },
    { name: `${step}: time`, value: m.stepMs!, unit: 'ms' },
  ];
}

/** Peak RSS of one training step in a fresh child process (full fine-tuning or LoRA); the child loads TypeScript through tsx however the parent was started. */
export function measureTrainingMemory(
  shape: 'llama' | 'gpt2',
  mode: 'full' | 'lora',
  frozen: FrozenPlacement = 'input',
): Promise<MemoryFigure> {
  return runTsChild<MemoryFigure>(
    siblingModule('bench-memory-worker', import.meta.url),
    [shape, mode, frozen],
    'memory benchmark child',
  );
}

export interface TrainingBench {
  llama: RoundsAgainstTorch;
  gpt2?: RoundsAgainstTorch;
  /** DPO step / SFT step on the same tokens (llama-shaped) */
  dpoOverSft: { sft: StepTiming; dpo: StepTiming; ratio: number };
  /** LoRA (q,v; rank 8) step times with the frozen base as initializers vs inputs, and the full fine-tuning step they alternate with (llama-shaped) */
  lora: { initializer: StepTiming; input: StepTiming; full: StepTiming };
  /** peak RSS of one step of `shape`: full fine-tuning vs LoRA */
  memory?: { shape: keyof typeof BENCH_SHAPES; full: MemoryFigure; lora: MemoryFigure };
  /** LoRA over the same GGUF file at f32, q8_0 and q4_0 */
  qloraMemory?: Record<'f32' | 'q8_0' | 'q4_0', MemoryFigure>;
}

export async function benchTraining(
  options: {
    gpt2?: boolean;
    memory?: boolean;
    steps?: number;
    rounds?: number;
    python?: string;
    onProgress?: (what: string) => void;
  } = {},
): Promise<TrainingBench> {
  const steps = options.steps ?? 5;
  const rounds = options.rounds ?? 2;
  const llama = BENCH_SHAPES.llama;
  const say = options.onProgress ?? (() => {});
  say(`training step: ${llama.name}`);
  const llamaTiming = await timeAgainstTorch('llama', { rounds, steps, python: options.python });
  let gpt2: RoundsAgainstTorch | undefined;
  if (options.gpt2 !== false) {
    say(`training step: ${BENCH_SHAPES.gpt2.name}`);
    gpt2 = await timeAgainstTorch('gpt2', { rounds, steps: Math.min(steps, 3), python: options.python });
  }
  say('DPO vs SFT on the same tokens');
  const weights = randomInitWeights(llama.config, 0);
  const prompt = llama.seq / 2;
  const [sft, dpo] = await timeTrainingSteps(
    [
      { shape: llama, objective: sftObjective(), items: sftBatch(llama, prompt) },
      { shape: llama, objective: dpoObjective({ beta: 0.1 }), items: dpoBatch(llama, prompt) },
    ],
    { steps: 2 * steps, weights },
  );
  say('LoRA: frozen base as initializers vs inputs, vs full fine-tuning');
  const lora = { rank: 8, alpha: 16, targets: ['q_proj', 'v_proj'] };
  // the full step last: its AdamW updates the shared weights, which the LoRA sessions embedded or are fed alike
  const [loraInit, loraInput, loraFull] = await timeTrainingSteps(
    [
      { shape: llama, objective: sftObjective(), items: sftBatch(llama), lora, frozen: 'initializer' },
      { shape: llama, objective: sftObjective(), items: sftBatch(llama), lora, frozen: 'input' },
      { shape: llama, objective: sftObjective(), items: sftBatch(llama) },
    ],
    { steps, weights },
  );
  let memory: TrainingBench['memory'];
  if (options.memory !== false) {
    say('peak memory: full fine-tuning vs LoRA');
    const shape = options.gpt2 === false ? 'llama' : 'gpt2';
    memory = {
      shape,
      full: await measureTrainingMemory(shape, 'full'),
      lora: await measureTrainingMemory(shape, 'lora'),
    };
  }
  let qloraMemory: TrainingBench['qloraMemory'];
  if (options.memory !== false) {
    say(`peak memory: LoRA over a GGUF base at f32, q8_0 and q4_0 (${QLORA_SHAPE.name})`);
    qloraMemory = {
      f32: await measureQloraMemory('f32'),
      q8_0: await measureQloraMemory('q8_0'),
      q4_0: await measureQloraMemory('q4_0'),
    };
  }
  return {
    llama: llamaTiming,
    gpt2,
    dpoOverSft: { sft, dpo, ratio: dpo.medianMs / sft.medianMs },
    lora: { initializer: loraInit, input: loraInput, full: loraFull },
    memory,
    qloraMemory,
  };
}

/** The figures `alignkit bench` prints (ratios > 1 mean alignkit is faster or smaller). */
export function trainingBenchFigures(b: TrainingBench): Figure[] {
  const step = (name: string, r: RoundsAgainstTorch, target?: string): Figure[] => {
    const ms = median(r.rounds.map((t) => t.medianMs));
    const torchMs = r.torchMs.length ? median(r.torchMs) : undefined;
    const figures: Figure[] = [
      {
        name: `train step ${name}`,
        value: ms,
        unit: 'ms',
        ...(torchMs ? { reference: { name: 'PyTorch', value: Math.round(torchMs), ratio: torchMs / ms }, target } : {}),
      },
    ];
    if (r.torchMs.length === r.rounds.length && r.rounds.length > 1) {
      const ratios = r.rounds.map((t, i) => r.torchMs[i] / t.medianMs);
      figures.push({
        name: `  PyTorch ÷ alignkit, lowest of ${ratios.length} alternating rounds (${ratios.map((x) => x.toFixed(2)).join(', ')})`,
        value: Math.min(...ratios),
        unit: '×',
        target,
      });
    }
    figures.push(
      { name: `  of which AdamW (${name})`, value: median(r.rounds.map((t) => t.optimizerMs)), unit: 'ms' },
      { name: `  tokens/s (${name})`, value: median(r.rounds.map((t) => t.tokensPerSecond)), unit: 'tok/s' },
    );
    return figures;
  };
  const figures: Figure[] = [...step(BENCH_SHAPES.llama.name, b.llama)];
  if (b.gpt2) figures.push(...step(BENCH_SHAPES.gpt2.name, b.gpt2, '≥ 1.5× (issue 18)'));
  figures.push(
    { name: 'DPO step / SFT step, same tokens (llama-shaped)', value: b.dpoOverSft.ratio, unit: '×' },
    {
      name: 'LoRA q,v r=8 step, frozen base as initializers',
      value: b.lora.initializer.medianMs,
      unit: 'ms',
      reference: {
        name: 'full fine-tuning step, same tokens',
        value: Math.round(b.lora.full.medianMs),
        ratio: b.lora.full.medianMs / b.lora.initializer.medianMs,
      },
    },
    { name: 'LoRA q,v r=8 step, frozen base as inputs', value: b.lora.input.medianMs, unit: 'ms' },
  );
  if (b.memory) {
    const mb = (x: number) => x / 2 ** 20;
    // the worker's LoRA: rank 8 on the family's default targets (GPT-2: c_attn; llama: q, v)
    const shape = BENCH_SHAPES[b.memory.shape];
    const step = `one ${b.memory.shape === 'gpt2' ? 'GPT-2-small-shaped' : 'llama-shaped'} training step, batch ${shape.batch}×${shape.seq}`;
    figures.push(
      { name: `peak RSS of ${step}: full fine-tuning`, value: mb(b.memory.full.peakRss), unit: 'MiB' },
      { name: '  in float32 weight sizes', value: b.memory.full.peakRss / b.memory.full.weightBytes, unit: '×' },
      {
        name: `peak RSS of ${step}: LoRA (rank 8)`,
        value: mb(b.memory.lora.peakRss),
        unit: 'MiB',
        reference: {
          name: 'full',
          value: Math.round(mb(b.memory.full.peakRss)),
          ratio: b.memory.full.peakRss / b.memory.lora.peakRss,
        },
      },
    );
  }
  if (b.qloraMemory) {
    const mb = (x: number) => x / 2 ** 20;
    const f32 = b.qloraMemory.f32;
    figures.push({
      name: `peak RSS, LoRA q,v r=8 step over a GGUF base at f32 (${QLORA_SHAPE.name}; tensors ${Math.round(mb(f32.weightBytes))} MiB)`,
      value: mb(f32.peakRss),
      unit: 'MiB',
    });
    for (const precision of ['q8_0', 'q4_0'] as const) {
      const q = b.qloraMemory[precision];
      figures.push({
        name: `  the same over ${precision} (QLoRA; tensors ${Math.round(mb(q.weightBytes))} MiB)`,
        value: mb(q.peakRss),
        unit: 'MiB',
        reference: { name: 'f32', value: Math.round(mb(f32.peakRss)), ratio: f32.peakRss / q.peakRss },
      });
    }
    // one step after a warm-up in each child: a coarse figure, but the one that shows what the 4-bit codes cost in time
    for (const precision of ['q8_0', 'q4_0'] as const) {
      const q = b.qloraMemory[precision];
      if (q.stepMs === undefined || f32.stepMs === undefined) continue;
      figures.push({
        name: `  one LoRA step over ${precision} (1 step after a warm-up)`,
        value: q.stepMs,
        unit: 'ms',
        reference: { name: 'over f32', value: Math.round(f32.stepMs), ratio: f32.stepMs / q.stepMs },
      });
    }
  }
  return figures;
}
