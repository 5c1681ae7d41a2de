/** The settings of the improve loop's fine-tuning step, and their defaults. */
import type { ScheduleKind } from '../train/schedule.ts';

export interface FineTuneSettings {
  lr: number;
  epochs: number;
  /** optimizer steps (overrides epochs) */
  steps?: number;
  batchSize: number;
  gradAccum: number;
  /** tokens per example (prompt + completion); longer ones are cut as the trainer documents */
  maxLength?: number;
  schedule: ScheduleKind;
  warmup: number;
  maxGradNorm: number;
  weightDecay: number;
  /** LoRA rank (absent = full fine-tuning) */
  loraRank?: number;
  loraAlpha?: number;
  loraTargets?: string[];
  seed: number;
}

export const defaultFineTuneSettings: FineTuneSettings = {
  lr: 1e-4,
  epochs: 2,
  batchSize: 8,
  gradAccum: 1,
  schedule: 'cosine',
  warmup: 0,
  maxGradNorm: 1,
  weightDecay: 0,
  seed: 0,
};
