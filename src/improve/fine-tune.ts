/**
 * The improve loop's fine-tuning step: SFT (optionally LoRA, merged for evaluation) with the
 * training library, on the prompt-completion JSONL the data stage wrote. Resumable through the
 * trainer's own checkpoints.
 */
import { existsSync, rmSync } from 'node:fs';
import { readTrainableCheckpoint } from '../lm/load.ts';
import { listCheckpoints } from '../train/checkpoint.ts';
import { loadSftData } from '../train/data/load-sft.ts';
import { defaultLoraTargets, type LoraConfig } from '../train/lora.ts';
import { defaultOptimizer } from '../train/optimizer.ts';
import { sftObjective } from '../train/sft-objective.ts';
import { train, type TrainProgress } from '../train/trainer.ts';
import { AlignkitError } from '../errors.ts';
import type { FineTuneSettings } from './fine-tune-settings.ts';

export interface FineTuneResult {
  /** the fine-tuned model (merged when LoRA was used) */
  modelDir: string;
  steps: number;
  examples: number;
  truncated: number;
  finalLoss: number | null;
}

export async function fineTune(o: {
  modelPath: string;
  dataFile: string;
  outDir: string;
  settings: FineTuneSettings;
  resume: boolean;
  onProgress?: (p: TrainProgress) => void;
}): Promise<FineTuneResult> {
  const s = o.settings;
  const model = readTrainableCheckpoint(o.modelPath);
  const maxLength = Math.min(s.maxLength ?? model.config.maxPositions, model.config.maxPositions);
  const { examples, stats } = loadSftData(o.dataFile, model.tokenizer, { maxLength });
  const lora: LoraConfig | undefined = s.loraRank
    ? {
        rank: s.loraRank,
        alpha: s.loraAlpha ?? 2 * s.loraRank,
        targets: s.loraTargets?.length ? s.loraTargets : defaultLoraTargets(model.config),
      }
    : undefined;
  // a killed run continues from its last checkpoint; one killed before any checkpoint starts over
  const resume = o.resume && listCheckpoints(o.outDir).length > 0;
  if (!resume && existsSync(o.outDir)) rmSync(o.outDir, { recursive: true, force: true });
  const result = await train({
    objective: sftObjective(),
    model,
    train: examples,
    lora,
    optimizer: { ...defaultOptimizer('adamw'), weightDecay: s.weightDecay },
    lr: s.lr,
    schedule: s.schedule,
    warmup: s.warmup,
    maxGradNorm: s.maxGradNorm,
    batchSize: s.batchSize,
    gradAccum: s.gradAccum,
    steps: s.steps,
    epochs: s.steps === undefined ? s.epochs : undefined,
    seed: s.seed,
    outDir: o.outDir,
    saveEvery: 50,
    evalEvery: 0,
    resume,
    save: lora ? 'both' : undefined,
    modelKind: 'causal-lm',
    runConfig: { command: 'improve (fine-tune)', model: o.modelPath, data: o.dataFile, ...s, maxLength },
    onProgress: o.onProgress,
  });
  if (!result.modelDir) throw new AlignkitError('internal', 'the trainer wrote no model directory');
  return {
    modelDir: result.modelDir,
    steps: result.steps,
    examples: examples.length,
    truncated: stats.truncated,
    finalLoss: result.final.loss ?? null,
  };
}
