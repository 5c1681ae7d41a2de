/**
 * Real-size figures of the architecture families (`alignkit bench --section families`):
 * random-weight models with the exact published shapes of SmolLM2-360M, Qwen2.5-0.5B,
 * Qwen3-0.6B, Llama-3.2-1B and Gemma-3-1B, written once as bf16 HF directories (as published),
 * then loaded and run in a fresh process each: load time, peak RSS, prefill 128 tokens, decode 1
 * and 8 sequences; each against plain PyTorch on the same directory
 * (scripts/bench-families-torch.py) where /usr/bin/python3 has torch. Never asserted.
 */
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { parseHfConfig } from '../../models/config.ts';
import { readHfDirectory, writeHfDirectory } from '../../models/hf-directory.ts';
import { BENCH_MODELS, PUBLISHED_CONFIGS } from '../../models/published-configs.ts';
import { randomInitWeights } from '../../models/random-init.ts';
import { defaultCacheDir } from '../../util/cache-dir.ts';
import { fastestMs, peakRssFigure, type Figure } from '../../util/bench-figure.ts';
import { runTorchScript } from '../../util/torch-script.ts';
import { runTsChild, siblingModule } from '../../util/ts-child.ts';
import { createRng } from '../../util/random.ts';
import { NativeModel } from './native-model.ts';
import { inputError } from '../../errors.ts';
import { benchTokenizer, decodeStepMs } from './bench.ts';
import { peakRssBytes } from '../../util/peak-rss.ts';

export interface FamilyRun {
  loadMs: number;
  prefill128Ms: number;
  decode1Ms: number;
  decode8Ms: number;
  peakRssBytes: number;
  /** float32 bytes of the weights (what the RSS budget is measured against) */
  weightBytes: number;
}

/** Writes the random-weight bf16 directory of a published model (once; the bench reuses it). */
export function writeBenchModel(name: string, dir: string): void {
  if (existsSync(join(dir, 'config.json'))) return;
  const config = parseHfConfig(PUBLISHED_CONFIGS[name], `${name} config.json`);
  writeHfDirectory(dir, config, randomInitWeights(config, 0), { dtype: 'BF16' });
}

/** Loads and runs a model directory in this process (the child's side). */
export async function runBenchModel(dir: string): Promise<FamilyRun> {
  const start = performance.now();
  const { config, weights } = readHfDirectory(dir);
  let weightBytes = 0;
  for (const w of weights.values()) weightBytes += w.data.byteLength;
  const model = await NativeModel.create(dir, config, weights, benchTokenizer(config.vocabSize), {
    consumeWeights: true,
  });
  const loadMs = performance.now() - start;
  const rng = createRng(1);
  const seq = (n: number) => Array.from({ length: n }, () => 2 + rng.int(config.vocabSize - 2));
  const prompt = seq(128);
  const prefill128Ms = await fastestMs(async () => (await model.open([prompt])).close(), 3);
  const decode1Ms = await decodeStepMs(model, 1, 8);
  const decode8Ms = await decodeStepMs(model, 8, 8);
  await model.dispose();
  return {
    loadMs,
    prefill128Ms,
    decode1Ms,
    decode8Ms,
    peakRssBytes: peakRssBytes(),
    weightBytes,
  };
}

/** Every bench model: written by one child, run by another (so that its peak RSS is the run's), then PyTorch. */
export async function benchFamilies(names: readonly string[] = BENCH_MODELS): Promise<Figure[]> {
  for (const name of names)
    if (!Object.hasOwn(PUBLISHED_CONFIGS, name))
      throw inputError(`unknown model "${name}" (expected one of: ${Object.keys(PUBLISHED_CONFIGS).join(', ')})`, {
        field: '--model',
      });
  const figures: Figure[] = [];
  for (const name of names) {
    const dir = join(defaultCacheDir('bench-models'), name);
    const worker = siblingModule('bench-families-worker', import.meta.url);
    await runTsChild<{ written: true }>(worker, ['write', name, dir], `${name} writer`);
    const ours = await runTsChild<FamilyRun>(worker, ['run', name, dir], `${name} run`);
    const torch = runTorchScript('bench-families-torch.py', ['--dir', dir, '--threads', '1', '--reps', '2']);
    figures.push(...familyFigures(name, ours, torch));
    if (!process.env.ALIGNKIT_KEEP_BENCH_MODELS) rmSync(dir, { recursive: true, force: true });
  }
  return figures;
}

function familyFigures(name: string, ours: FamilyRun, torch: Record<string, number> | undefined): Figure[] {
  const versus = (ms: number, torchMs: number | undefined) =>
    torchMs === undefined
      ? {}
      : {
          reference: {
            name: 'plain PyTorch, same directory',
            value: Math.round(torchMs * 10) / 10,
            ratio: torchMs / ms,
          },
        };
  const budget = 1.5 * ours.weightBytes + 300e6;
  return [
    {
      name: `${name}: load (bf16 safetensors → session)`,
      value: ours.loadMs,
      unit: 'ms',
      ...versus(ours.loadMs, torch?.load_ms),
    },
    {
      // both sides run the LM head at the last position only (what generation's prefill needs)
      name: `${name}: prefill 128 tokens, log-probs at the last`,
      value: ours.prefill128Ms,
      unit: 'ms',
      ...versus(ours.prefill128Ms, torch?.prefill128_ms),
    },
    {
      name: `${name}: decode, 1 sequence`,
      value: ours.decode1Ms,
      unit: 'ms/step',
      ...versus(ours.decode1Ms, torch?.decode1_ms),
    },
    {
      name: `${name}: decode, 8 sequences`,
      value: ours.decode8Ms,
      unit: 'ms/step',
      ...versus(ours.decode8Ms, torch?.decode8_ms),
    },
    peakRssFigure(`${name}: peak RSS`, ours.peakRssBytes, { name: '1.5× float32 weights + 300 MB', bytes: budget }),
    ...(torch
      ? [
          {
            name: `${name}: peak RSS vs PyTorch`,
            value: ours.peakRssBytes / 1e6,
            unit: 'MB',
            reference: {
              name: 'plain PyTorch',
              value: Math.round(torch.peak_rss_bytes / 1e6),
              ratio: torch.peak_rss_bytes / ours.peakRssBytes,
            },
          },
        ]
      : []),
  ];
}
