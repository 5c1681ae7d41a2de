/**
 * Speed and memory figures of the native engine (printed by `alignkit bench`; never asserted).
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { NativeModel } from './native-model.ts';
import { loadNativeModel } from '../load.ts';
import { randomInitWeights } from '../../models/random-init.ts';
import type { ModelConfig } from '../../models/config.ts';
import type { Tokenizer } from '../../tokenizers/tokenizer.ts';
import { createRng } from '../../util/random.ts';
import { fastestMs, type Figure } from '../../util/bench-figure.ts';
import { timedProcessMs } from '../../util/timed-process.ts';
import { runTorchScript } from '../../util/torch-script.ts';
import { inputError } from '../../errors.ts';
import { Graph } from '../../engine/graph.ts';
import { Ops } from '../../engine/ops.ts';
import { GraphSession } from '../../engine/session.ts';
import { peakRssBytes } from '../../util/peak-rss.ts';

/**
 * stories260K greedy decoding of one sequence from BOS; given `runC` binaries (paths to llama2.c's
 * compiled `run`), against those binaries run on the same checkpoint in turn with alignkit, the best
 * of each side — this machine's speed drifts by a third from one minute to the next, so only
 * interleaved figures compare, and without binaries there is no reference.
 */
export async function benchStories(
  checkpoint: string,
  tokenizer: string,
  runC: readonly string[] = [],
): Promise<Figure[]> {
  // the default (the WebAssembly kernel for a model this small) and onnxruntime, in turn
  const runtimes = ['auto', 'onnxruntime'] as const;
  const models = [];
  for (const runtime of runtimes) models.push(await loadNativeModel(checkpoint, tokenizer, { runtime }));
  const decode = (model: NativeModel) => model.sample({ prompt: [1], maxNewTokens: 256, temperature: 0 });
  for (const model of models) await decode(model);
  const best = models.map(() => 0);
  const measured = runC.map(() => 0);
  for (let round = 0; round < 5; round++) {
    for (const [i, model] of models.entries()) {
      const t = performance.now();
      await decode(model);
      best[i] = Math.max(best[i], 256_000 / (performance.now() - t));
    }
    runC.forEach((binary, i) => {
      measured[i] = Math.max(measured[i], runCTokensPerSecond(binary, checkpoint, tokenizer));
    });
  }
  const figures: Figure[] = [];
  for (const [i, model] of models.entries()) {
    const decoded = {
      name: `stories260K greedy decode, 1 sequence (${model.stepRuntime})`,
      value: best[i],
      unit: 'tokens/s',
    };
    if (!runC.length) figures.push({ ...decoded, name: `${decoded.name} (--run-c PATH compares llama2.c)` });
    runC.forEach((binary, j) =>
      figures.push({
        ...decoded,
        reference: { name: `${binary}, run in turn`, value: measured[j], ratio: best[i] / measured[j] },
      }),
    );
    await model.dispose();
  }
  return figures;
}

/**
 * `alignkit generate` on stories260K as a user runs it, whole process (start-up, load, generate,
 * print), against llama2.c `run` binaries run the same way: tokens per second over the difference
 * between a 400-token run and a 1-token run (which cancels the start-up), the fastest run of each
 * of 5 rounds, the programs taking turns.
 */
export function benchGenerateProcess(checkpoint: string, tokenizer: string, runC: readonly string[]): Figure[] {
  const alignkit = fileURLToPath(new URL('../../../bin/alignkit.mjs', import.meta.url));
  const generate = (flags: readonly string[]) => ({
    name: `alignkit generate${flags.length ? ' ' + flags.join(' ') : ''}`,
    run: (n: number) =>
      timedProcessMs(process.execPath, [
        alignkit,
        'generate',
        '--model',
        checkpoint,
        '--tokenizer',
        tokenizer,
        '--temperature',
        '0',
        '--max-new-tokens',
        String(n),
        ...flags,
      ]),
  });
  // the default (the WebAssembly kernel for stories260K), then onnxruntime
  const alignkits = [generate([]), generate(['--runtime', 'onnxruntime'])];
  const references = runC.map((binary) => ({
    name: binary,
    run: (n: number) => timedProcessMs(binary, [checkpoint, '-z', tokenizer, '-t', '0', '-n', String(n)]),
  }));
  const programs = [...alignkits, ...references];
  const fastest = programs.map(() => ({ long: Infinity, short: Infinity }));
  for (let round = 0; round < 5; round++)
    programs.forEach((p, i) => {
      fastest[i].long = Math.min(fastest[i].long, p.run(GENERATED));
      fastest[i].short = Math.min(fastest[i].short, p.run(1));
    });
  const rate = (i: number) => ((GENERATED - 1) * 1000) / (fastest[i].long - fastest[i].short);
  return alignkits.flatMap((p, i) => {
    const figure: Figure = {
      name: `${p.name}: whole process, (${GENERATED} − 1 tokens)`,
      value: rate(i),
      unit: 'tokens/s',
    };
    const versus = references.map((r, j) => ({
      ...figure,
      reference: {
        name: `${r.name}, the same way`,
        value: Math.round(rate(alignkits.length + j)),
        ratio: rate(i) / rate(alignkits.length + j),
      },
    }));
    return [
      { name: `${p.name}: whole process, 1 token (start-up)`, value: fastest[i].short, unit: 'ms' },
      ...(versus.length ? versus : [figure]),
    ];
  });
}

const GENERATED = 400;

/** Wall ms of running a program to completion (its output discarded); throws when it fails. */
/** llama2.c's own "achieved tok/s" for 256 greedy tokens. */
function runCTokensPerSecond(binary: string, checkpoint: string, tokenizer: string): number {
  const run = spawnSync(binary, [checkpoint, '-z', tokenizer, '-t', '0', '-n', '256'], { encoding: 'utf8' });
  const match = /achieved tok\/s: ([\d.]+)/.exec(`${run.stdout}${run.stderr}`);
  if (run.status !== 0 || !match)
    throw inputError(`could not run llama2.c's run.c binary (exit ${run.status}); expected its "achieved tok/s" line`, {
      file: binary,
    });
  return Number(match[1]);
}

/** Minimal tokenizer for random-weight benchmark models (ids only). */
export const benchTokenizer = (vocab: number): Tokenizer => ({
  vocabSize: vocab,
  bosId: 1,
  eosId: null,
  padId: 0,
  hasChatTemplate: false,
  encode: (text) => Array.from(text, (c) => c.charCodeAt(0) % vocab),
  decode: (ids) => ids.join(' '),
  applyChatTemplate: (m) => m.map((x) => x.content).join('\n'),
});

export const GPT2_SMALL_LLAMA: ModelConfig = {
  family: 'llama',
  architecture: 'LlamaForCausalLM',
  vocabSize: 50257,
  hiddenSize: 768,
  numLayers: 12,
  numHeads: 12,
  numKvHeads: 12,
  headDim: 64,
  intermediateSize: 3072,
  maxPositions: 1024,
  normEps: 1e-5,
  ropeTheta: 10000,
  attentionBias: false,
  tieWordEmbeddings: false,
  slidingWindow: null,
  bosTokenId: 1,
  eosTokenId: null,
  torchDtype: 'float32',
};

/** A 26 M-parameter llama with stories260K's vocabulary size and random weights: big enough that a decode step reads more weights than it computes with. */
export async function midSizedLlama(): Promise<NativeModel> {
  const cfg: ModelConfig = {
    ...GPT2_SMALL_LLAMA,
    vocabSize: 512,
    hiddenSize: 512,
    numLayers: 8,
    numHeads: 8,
    numKvHeads: 8,
    intermediateSize: 1376,
    maxPositions: 512,
  };
  return NativeModel.create('mid-sized llama', cfg, randomInitWeights(cfg, 0), benchTokenizer(cfg.vocabSize));
}

export interface TorchInferenceReference {
  prefill128Ms: number;
  score8x128Ms?: number;
  decode1Ms: number;
  decode8Ms: number;
  source: string;
}

/** PyTorch figures of notes/backends.md §4 (plain PyTorch + OpenBLAS; prefill with 1 thread, decode with 2), used when torch is not installed. */
export const TORCH_NOTES: TorchInferenceReference = {
  prefill128Ms: 371,
  decode1Ms: 108.6,
  decode8Ms: 146.8,
  source: 'plain PyTorch (notes)',
};

/** The same shapes in plain PyTorch on this machine (scripts/bench-infer-torch.py), or the notes' figures without torch. */
export function torchInferenceReference(): TorchInferenceReference {
  const r = runTorchScript('bench-infer-torch.py', ['--threads', '1', '--reps', '3']);
  if (!r) return TORCH_NOTES;
  return {
    prefill128Ms: r.prefill128_ms,
    score8x128Ms: r.score8x128_ms,
    decode1Ms: r.decode1_ms,
    decode8Ms: r.decode8_ms,
    source: 'plain PyTorch, measured now',
  };
}

/** A llama-shaped model of GPT-2-small size with random weights: prefill, scoring and decoding. */
export async function benchGpt2SizedLlama(torch: TorchInferenceReference = TORCH_NOTES): Promise<Figure[]> {
  const cfg = GPT2_SMALL_LLAMA;
  const model = await NativeModel.create(
    'gpt2-sized llama',
    cfg,
    randomInitWeights(cfg, 0),
    benchTokenizer(cfg.vocabSize),
  );
  const rng = createRng(1);
  const seq = (n: number) => [1, ...Array.from({ length: n - 1 }, () => 2 + rng.int(cfg.vocabSize - 2))];
  const prompt = seq(128);
  const prefillMs = await fastestMs(async () => (await model.open([prompt])).close(), 5);
  const items = Array.from({ length: 8 }, () => ({ prefix: seq(64), continuation: seq(64).slice(1) }));
  const scoreMs = await fastestMs(() => model.score(items), 3);
  const decode1 = await decodeStepMs(model, 1);
  const decode8 = await decodeStepMs(model, 8);
  await model.dispose();
  const chainMs = await matmulChainMs(cfg, prompt.length);
  const versus = (ms: number, torchMs: number | undefined) =>
    torchMs ? { reference: { name: torch.source, value: torchMs, ratio: torchMs / ms } } : {};
  return [
    {
      name: 'GPT-2-small-sized llama: prefill 128 tokens',
      value: prefillMs,
      unit: 'ms',
      ...versus(prefillMs, torch.prefill128Ms),
    },
    {
      name: 'GPT-2-small-sized llama: prefill 128 tokens vs its matmuls alone',
      value: prefillMs,
      unit: 'ms',
      reference: { name: 'onnxruntime matmul chain, same shapes', value: chainMs, ratio: chainMs / prefillMs },
    },
    {
      name: 'GPT-2-small-sized llama: scoring 8×128 tokens',
      value: scoreMs,
      unit: 'ms',
      ...versus(scoreMs, torch.score8x128Ms),
    },
    {
      name: 'GPT-2-small-sized llama: decode, 1 sequence',
      value: decode1,
      unit: 'ms/step',
      ...versus(decode1, torch.decode1Ms),
    },
    {
      name: 'GPT-2-small-sized llama: decode, 8 sequences',
      value: decode8,
      unit: 'ms/step',
      ...versus(decode8, torch.decode8Ms),
    },
  ];
}

/**
 * Time of one decode step (one new token per row, full next-token log-probs) after a 16-token
 * prefill of `rows` sequences: the fastest of three runs of `steps` steps, after a warm-up run.
 */
export async function decodeStepMs(model: NativeModel, rows: number, steps = 16): Promise<number> {
  const rng = createRng(3);
  const vocab = model.config.vocabSize;
  const decode = async () => {
    const state = await model.open(
      Array.from({ length: rows }, () => Array.from({ length: 16 }, () => 2 + rng.int(vocab - 2))),
    );
    const t = performance.now();
    for (let i = 0; i < steps; i++) await state.append(Array.from({ length: rows }, () => [2 + rng.int(1000)]));
    state.close();
    return (performance.now() - t) / steps;
  };
  await decode();
  return Math.min(await decode(), await decode(), await decode());
}

/**
 * The floor of a prefill: the same weight matmuls alone (per layer q, k, v, o, gate, up, down at
 * `rows` rows, and the LM head at one row) as one onnxruntime graph with random weights.
 */
async function matmulChainMs(cfg: ModelConfig, rows: number): Promise<number> {
  const g = new Graph('matmul chain');
  const o = new Ops(g);
  const rng = createRng(2);
  const weight = (name: string, r: number, c: number) =>
    g.tensor(
      name,
      'float32',
      [r, c],
      Float32Array.from({ length: r * c }, () => rng.normal() * 0.02),
    );
  const D = cfg.hiddenSize,
    I = cfg.intermediateSize;
  let x = g.input('x', 'float32', [rows, D]);
  for (let l = 0; l < cfg.numLayers; l++) {
    let a = x;
    for (const name of ['q', 'k', 'v', 'o']) a = o.matmul(a, weight(`${name}${l}`, D, D));
    x = o.matmul(
      o.add(o.matmul(a, weight(`gate${l}`, D, I)), o.matmul(a, weight(`up${l}`, D, I))),
      weight(`down${l}`, I, D),
    );
  }
  g.output(o.matmul(o.slice(x, [rows - 1], [rows], [0]), weight('head', D, cfg.vocabSize)), 'y');
  const session = await GraphSession.create(g, 'matmul chain');
  const feeds = { x: { dims: [rows, D], data: Float32Array.from({ length: rows * D }, () => rng.normal()) } };
  const ms = await fastestMs(() => session.run(feeds), 5);
  await session.release();
  return ms;
}

/** Peak resident memory while loading and running a model, against 2× its float32 weights + 300 MB. */
export async function benchMemory(): Promise<Figure[]> {
  const cfg = GPT2_SMALL_LLAMA;
  const weights = randomInitWeights(cfg, 0);
  let bytes = 0;
  for (const w of weights.values()) bytes += w.data.byteLength;
  const model = await NativeModel.create('memory', cfg, weights, benchTokenizer(cfg.vocabSize), {
    consumeWeights: true,
  });
  await (await model.open([[1, 2, 3, 4]])).close();
  await model.dispose();
  const peak = peakRssBytes();
  const budget = 2 * bytes + 300e6;
  return [
    {
      name: 'peak RSS running a GPT-2-small-sized llama',
      value: peak / 1e6,
      unit: 'MB',
      reference: { name: '2× float32 weights + 300 MB', value: budget / 1e6, ratio: budget / peak },
    },
  ];
}
