/**
 * alignkit and llama.cpp (node-llama-cpp, when installed) side by side on the same GGUF files
 * (`alignkit bench --section gguf`): random-weight models of GPT-2-small size and of
 * Llama-3.2-1B's shape at f32, q8_0 and q4_0, each run by each engine in fresh processes at 1
 * and 2 threads and compared at each engine's best: prefill 128 tokens, decode 1 sequence, decode
 * 8 sequences, peak RSS. And
 * the large-model check (`--section gguf-8b`): a Llama-3-8B-shaped q4_0 file loaded and run, peak
 * RSS against 1.2× its quantized bytes + 400 MB. Never asserted.
 *
 * Decode is timed per step after a 16-token prompt: alignkit appends a token and computes the
 * full next-token distribution; llama.cpp evaluates a token and samples greedily from its logits.
 */
import { existsSync, join, mkdirSync, rmSync, statSync } from '../../util/io.ts';
import { parseHfConfig, type ModelConfig } from '../../models/config.ts';
import { PUBLISHED_CONFIGS } from '../../models/published-configs.ts';
import { writeRandomGguf } from '../../models/gguf/random-gguf.ts';
import type { GgufPrecision } from '../../models/gguf/gguf-model.ts';
import { defaultCacheDir } from '../../util/cache-dir.ts';
import { fastestMs, peakRssFigure, type Figure } from '../../util/bench-figure.ts';
import { runTsChild, siblingModule } from '../../util/ts-child.ts';
import { createRng } from '../../util/random.ts';
import { loadNativeModel } from '../load.ts';
import { decodeStepMs, GPT2_SMALL_LLAMA } from './bench.ts';
import { peakRssBytes } from '../../util/peak-rss.ts';

export const ENGINES = ['alignkit', 'llama.cpp'] as const;
export type Engine = (typeof ENGINES)[number];

export interface GgufRun {
  loadMs: number;
  prefill128Ms: number;
  decode1Ms: number;
  decode8Ms: number;
  peakRssBytes: number;
}

const LLAMA_3_8B: ModelConfig = {
  ...parseHfConfig(PUBLISHED_CONFIGS['Llama-3.2-1B'], 'Llama-3.2-1B config.json'),
  hiddenSize: 4096,
  intermediateSize: 14336,
  numLayers: 32,
  numHeads: 32,
  numKvHeads: 8,
  headDim: 128,
  maxPositions: 8192,
  ropeScaling: undefined,
  tieWordEmbeddings: false,
};

export const GGUF_BENCH_MODELS: Record<string, () => ModelConfig> = {
  'GPT-2-small-sized llama': () => ({ ...GPT2_SMALL_LLAMA, maxPositions: 1024 }),
  'Llama-3.2-1B-shaped': () => ({
    ...parseHfConfig(PUBLISHED_CONFIGS['Llama-3.2-1B'], 'Llama-3.2-1B config.json'),
    maxPositions: 4096,
  }),
  'Llama-3-8B-shaped': () => LLAMA_3_8B,
};

const PRECISIONS: GgufPrecision[] = ['f32', 'q8_0', 'q4_0'];

/** The random-weight file of a bench model (written once into the cache, or to `dir`). */
export function benchGgufFile(model: string, precision: GgufPrecision, dir = defaultCacheDir('bench-gguf')): string {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${model.replace(/[^A-Za-z0-9.-]+/g, '-')}.${precision}.gguf`);
  if (!existsSync(file)) writeRandomGguf(file, GGUF_BENCH_MODELS[model](), precision);
  return file;
}

/**
 * Timed prefills after the untimed warm-up, fastest kept, for both engines: alignkit's first few
 * prefills of a process run slower (allocations settling: 440 → 300 → 210 → 155 ms at 1 thread
 * for GPT-2-small-sized q4_0), llama.cpp's compute buffers are allocated up front.
 */
const PREFILL_REPS = 5;

/** `n` random token ids (every bench vocabulary has more than 30,000) */
const prompt = (n: number, seed: number) => {
  const rng = createRng(seed);
  return Array.from({ length: n }, () => 300 + rng.int(30000 - 300));
};

/** alignkit on one file, in this process (the child's side); `steps` decode steps are timed, 8 sequences unless `oneSequence`. */
export async function runAlignkit(file: string, steps = 8, oneSequence = false): Promise<GgufRun> {
  const start = performance.now();
  const model = await loadNativeModel(file);
  const loadMs = performance.now() - start;
  const prefill128Ms = await fastestMs(
    async () => (await model.open([prompt(128, 1)])).close(),
    oneSequence ? 1 : PREFILL_REPS,
  );
  const decode1Ms = await decodeStepMs(model, 1, steps);
  const decode8Ms = oneSequence ? NaN : await decodeStepMs(model, 8, steps);
  await model.dispose();
  return { loadMs, prefill128Ms, decode1Ms, decode8Ms, peakRssBytes: peakRssBytes() };
}

/** llama.cpp (node-llama-cpp's prebuilt CPU binary) on one file, in this process, at `threads`. */
export async function runLlamaCpp(file: string, threads: number, steps = 8): Promise<GgufRun> {
  const { getLlama, LlamaLogLevel } = await import('node-llama-cpp');
  const start = performance.now();
  const llama = await getLlama({ gpu: false, build: 'never', logLevel: LlamaLogLevel.error });
  const model = await llama.loadModel({ modelPath: file });
  const context = await model.createContext({ contextSize: 512, threads, sequences: 8, batchSize: 512 });
  const loadMs = performance.now() - start;
  const prefill128Ms = await fastestMs(async () => {
    const sequence = context.getSequence();
    await sequence.evaluateWithoutGeneratingNewTokens(prompt(128, 1) as never[]);
    sequence.dispose();
  }, PREFILL_REPS);
  /** ms per step of `rows` sequences generating `steps` tokens each after a 16-token prompt, together */
  const decode = async (rows: number) => {
    const sequences = Array.from({ length: rows }, () => context.getSequence());
    await Promise.all(sequences.map((s, i) => s.evaluateWithoutGeneratingNewTokens(prompt(16, 10 + i) as never[])));
    const t = performance.now();
    await Promise.all(
      sequences.map(async (s) => {
        let n = 0;
        for await (const _ of s.evaluate([300 as never], { temperature: 0 })) if (++n >= steps) break;
      }),
    );
    const ms = (performance.now() - t) / steps;
    for (const s of sequences) s.dispose();
    return ms;
  };
  await decode(1);
  const decode1Ms = await decode(1);
  const decode8Ms = await decode(8);
  await context.dispose();
  await model.dispose();
  await llama.dispose();
  return { loadMs, prefill128Ms, decode1Ms, decode8Ms, peakRssBytes: peakRssBytes() };
}

const worker = siblingModule('gguf-bench-worker', import.meta.url);

/** One engine on one file in a fresh process (so that its peak RSS is its own). */
export function runInChild(engine: Engine, file: string, threads: number): Promise<GgufRun> {
  return runTsChild<GgufRun>(worker, [engine, file, String(threads)], `${engine} on ${file}`);
}

async function llamaCppInstalled(): Promise<boolean> {
  try {
    await import('node-llama-cpp');
    return true;
  } catch {
    return false;
  }
}

/** The thread counts each engine runs at; each is compared at its best (the machine has 2 cores). */
const THREAD_COUNTS = [1, 2];

/**
 * The side-by-side section: every model × precision, each engine in fresh processes at each of
 * `threads`, each figure at the engine's best thread count for it (named in the figure).
 */
export async function benchGgufSideBySide(
  models = ['GPT-2-small-sized llama', 'Llama-3.2-1B-shaped'],
  threads = THREAD_COUNTS,
  precisions = PRECISIONS,
): Promise<Figure[]> {
  if (!(await llamaCppInstalled()))
    return [{ name: 'gguf side by side (node-llama-cpp is not installed)', value: NaN, unit: '' }];
  const figures: Figure[] = [];
  for (const name of models)
    for (const precision of precisions) {
      const file = benchGgufFile(name, precision);
      const runs = { alignkit: [] as [number, GgufRun][], 'llama.cpp': [] as [number, GgufRun][] };
      for (const t of threads) for (const engine of ENGINES) runs[engine].push([t, await runInChild(engine, file, t)]);
      figures.push(...sideBySideFigures(`${name} ${precision}`, runs.alignkit, runs['llama.cpp']));
      if (!process.env.ALIGNKIT_KEEP_BENCH_MODELS) rmSync(file, { force: true });
    }
  return figures;
}

const TIMED = [
  ['load', 'loadMs', 'ms'],
  ['prefill 128 tokens', 'prefill128Ms', 'ms'],
  ['decode, 1 sequence', 'decode1Ms', 'ms/step'],
  ['decode, 8 sequences', 'decode8Ms', 'ms/step'],
] as const;

/** Each timed figure at each engine's best thread count; peak RSS at the thread count each prefilled best at. */
function sideBySideFigures(label: string, ours: [number, GgufRun][], theirs: [number, GgufRun][]): Figure[] {
  const best = (runs: [number, GgufRun][], key: keyof GgufRun) =>
    runs.reduce((a, b) => (b[1][key] < a[1][key] ? b : a));
  const threads = (t: number) => `${t} thread${t === 1 ? '' : 's'}`;
  const figures: Figure[] = TIMED.map(([what, key, unit]) => {
    const [ot, o] = best(ours, key);
    const [tt, t] = best(theirs, key);
    return {
      name: `${label}: ${what} (alignkit at ${threads(ot)})`,
      value: o[key],
      unit,
      reference: { name: `llama.cpp at ${threads(tt)}`, value: round(t[key]), ratio: t[key] / o[key] },
    };
  });
  const [, o] = best(ours, 'prefill128Ms');
  const [, t] = best(theirs, 'prefill128Ms');
  figures.push({
    name: `${label}: peak RSS`,
    value: o.peakRssBytes / 1e6,
    unit: 'MB',
    reference: { name: 'llama.cpp', value: round(t.peakRssBytes / 1e6), ratio: t.peakRssBytes / o.peakRssBytes },
  });
  return figures;
}

/**
 * The quantized arithmetics the large-model check runs at: the default (int8), and float32 for
 * the 4-bit products, whose prepacked form onnxruntime keeps smaller (QuantizedMatmulOptions).
 */
const ACCURACIES_8B = ['int8', 'float32-4bit'];

/**
 * The large-model check: a Llama-3-8B-shaped q4_0 file (written to `dir`, ~4.7 GB) loaded and
 * run by alignkit in a fresh process per arithmetic; peak RSS against 1.2× the file's bytes + 400 MB.
 */
export async function benchGguf8b(
  dir: string,
  threads = 2,
  /** more figures measured on the same file before it is deleted (the CLI adds a QLoRA step) */
  alsoOnFile?: (file: string, label: string) => Promise<Figure[]>,
): Promise<Figure[]> {
  const file = benchGgufFile('Llama-3-8B-shaped', 'q4_0', dir);
  const quantizedBytes = statSync(file).size;
  const budget = 1.2 * quantizedBytes + 400e6;
  const figures: Figure[] = [{ name: 'Llama-3-8B-shaped q4_0: file size', value: quantizedBytes / 1e6, unit: 'MB' }];
  try {
    for (const accuracy of ACCURACIES_8B) {
      const run = await runTsChild<GgufRun>(
        worker,
        ['alignkit-8b', file, String(threads), accuracy],
        `alignkit on ${file} (${accuracy})`,
      );
      const label = `Llama-3-8B-shaped q4_0, ${accuracy} arithmetic`;
      figures.push(
        { name: `${label}: load`, value: run.loadMs, unit: 'ms' },
        { name: `${label}: prefill 128 tokens`, value: run.prefill128Ms, unit: 'ms' },
        { name: `${label}: decode, 1 sequence`, value: 1000 / run.decode1Ms, unit: 'tok/s' },
        peakRssFigure(`${label}: peak RSS`, run.peakRssBytes, { name: '1.2× quantized bytes + 400 MB', bytes: budget }),
      );
    }
    if (alsoOnFile) figures.push(...(await alsoOnFile(file, 'Llama-3-8B-shaped q4_0')));
    return figures;
  } finally {
    if (!process.env.ALIGNKIT_KEEP_BENCH_MODELS) rmSync(file, { force: true });
  }
}

const round = (x: number) => Math.round(x * 10) / 10;
