/**
 * Whole-process SFT as a user runs it (`alignkit bench --section training`): `alignkit train sft`
 * on a llama-shaped model (d 256, 4 layers, FFN 1024) with the stories260K 512-token vocabulary,
 * batches of 8 × 128 TinyStories tokens, 60 AdamW steps, against the same run in plain PyTorch
 * (scripts/bench-train-torch.py sft-process: start python, build the model, 60 steps over the
 * same token batches, save the weights). Wall time from spawning each command to its exit; the
 * programs take turns (a round is one run of each), the fastest of each kept, and the lowest
 * ratio of a round reported beside it.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Figure } from '../util/bench-figure.ts';
import { torchPython, torchScriptPath } from '../util/torch-script.ts';
import { randomInitWeights } from '../models/random-init.ts';
import { Llama2cTokenizer } from '../tokenizers/llama2c-tokenizer.ts';
import { writeLanguageModel } from './model-directory.ts';
import { BENCH_SHAPES } from './bench.ts';
import { AlignkitError } from '../errors.ts';

const STEPS = 60;
const BATCH = 8;
const SEQ = 128;

interface Paths {
  /** llama2.c tokenizer (stories260K's tok512.bin) */
  tokenizer: string;
  /** one story per line (the TinyStories sample) */
  stories: string;
}

interface ProcessRun {
  wallMs: number;
  /** from alignkit's metrics: process start to the first step, the first step, the median later step */
  startupS?: number;
  firstStepS?: number;
  stepS?: number;
}

export async function benchSftProcess(paths: Paths, rounds = 3): Promise<Figure[]> {
  const dir = mkdtempSync(join(tmpdir(), 'alignkit-sft-bench-'));
  try {
    const tokenizer = Llama2cTokenizer.fromFile(paths.tokenizer);
    const config = { ...BENCH_SHAPES.llama.config, vocabSize: tokenizer.vocabSize };
    writeLanguageModel(join(dir, 'model'), { config, weights: randomInitWeights(config, 0), tokenizer });
    // stories long enough for 128 tokens, as text for alignkit and as token batches for PyTorch
    const stories = readFileSync(paths.stories, 'utf8')
      .split('\n')
      .map((text) => ({ text, ids: tokenizer.encode(text) }))
      .filter((s) => s.ids.length >= SEQ);
    writeFileSync(join(dir, 'data.jsonl'), stories.map((s) => JSON.stringify({ text: s.text }) + '\n').join(''));
    const batches = Array.from({ length: Math.floor(stories.length / BATCH) }, (_, b) =>
      stories.slice(b * BATCH, (b + 1) * BATCH).map((s) => s.ids.slice(0, SEQ)),
    );
    writeFileSync(join(dir, 'batches.json'), JSON.stringify(batches));

    const python = torchPython();
    let alignkit: ProcessRun = { wallMs: Infinity };
    let torch = Infinity;
    const ratios: number[] = [];
    for (let round = 0; round < rounds; round++) {
      const run = alignkitSft(dir, round);
      if (run.wallMs < alignkit.wallMs) alignkit = run;
      if (!python) continue;
      const torchMs = torchSft(python, dir);
      torch = Math.min(torch, torchMs);
      ratios.push(torchMs / run.wallMs);
    }
    const what = `train sft whole process, ${STEPS} steps (d 256, vocab ${tokenizer.vocabSize}, batch ${BATCH}×${SEQ})`;
    return [
      {
        name: what,
        value: alignkit.wallMs / 1000,
        unit: 's',
        ...(Number.isFinite(torch)
          ? {
              reference: {
                name: 'PyTorch, the same run',
                value: +(torch / 1000).toFixed(1),
                ratio: torch / alignkit.wallMs,
              },
              target: '≥ 1.3× (issue 18)',
            }
          : {}),
      },
      ...(ratios.length > 1
        ? [
            {
              name: `  PyTorch ÷ alignkit, lowest of ${ratios.length} rounds (${ratios.map((x) => x.toFixed(2)).join(', ')})`,
              value: Math.min(...ratios),
              unit: '×',
              target: '≥ 1.3× (issue 18)',
            },
          ]
        : []),
      { name: '  command start to the first training step', value: alignkit.startupS ?? NaN, unit: 's' },
      {
        name: '  command start to the first step reported',
        value: (alignkit.startupS ?? NaN) + (alignkit.firstStepS ?? NaN),
        unit: 's',
      },
      { name: '  first step', value: alignkit.firstStepS ?? NaN, unit: 's' },
      { name: '  later steps (median)', value: alignkit.stepS ?? NaN, unit: 's' },
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function alignkitSft(dir: string, round: number): ProcessRun {
  const out = join(dir, `out-${round}`);
  const bin = fileURLToPath(new URL('../../bin/alignkit.mjs', import.meta.url));
  const args = [bin, 'train', 'sft', '--model', join(dir, 'model'), '--data', join(dir, 'data.jsonl')];
  args.push('--out', out, '--steps', String(STEPS), '--batch-size', String(BATCH), '--max-length', String(SEQ));
  const wallMs = timed(process.execPath, [...args, '--lr', '1e-3', '--weight-decay', '0.01', '--quiet']);
  const records = readFileSync(join(out, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as { split: string; elapsed_s: number; startup_s: number });
  const train = records.filter((r) => r.split === 'train');
  const steps = train.slice(1).map((r, i) => r.elapsed_s - train[i].elapsed_s);
  return {
    wallMs,
    startupS: train[0].startup_s,
    firstStepS: train[0].elapsed_s,
    stepS: steps.sort((a, b) => a - b)[Math.floor(steps.length / 2)],
  };
}

function torchSft(python: string, dir: string): number {
  const script = torchScriptPath('bench-train-torch.py');
  const args = [script, 'sft-process', '--data', join(dir, 'batches.json'), '--steps', String(STEPS)];
  return timed(python, [...args, '--out', join(dir, 'torch-model.pt')]);
}

function timed(command: string, args: readonly string[]): number {
  const t = performance.now();
  const run = spawnSync(command, args, { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  if (run.status !== 0)
    throw new AlignkitError(
      'internal',
      `${command} failed (exit ${run.status}): ${run.stderr.trim().split('\n').pop()}`,
    );
  return performance.now() - t;
}
