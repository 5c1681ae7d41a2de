/**
 * What the iterative loops and the MODPO sweep need from the trainer: train a DPO-family
 * objective on a TRL preference file, from one checkpoint with another as the frozen reference,
 * into a folder (resuming a killed run there), and return the checkpoint it wrote.
 */
import type { PairMargins } from './modpo-loss.ts';
import type { ObjectiveWeights } from './objective-weights.ts';

export interface PreferenceTrainJob {
  /** the checkpoint training starts from */
  policy: string;
  /** π_ref (π_sft for MODPO, the previous iterate for iLR-DPO) */
  reference: string;
  /** TRL JSONL {"prompt","chosen","rejected"} */
  data: string;
  /** the trainer's run folder */
  out: string;
  beta: number;
  /** length regularization α ≥ 0 (0 = plain DPO) */
  lengthAlpha?: number;
  /** MODPO: the weights and, per pair of `data` in file order, the margin rewards */
  modpo?: { weights: ObjectiveWeights; margins: PairMargins[] };
  seed: number;
  resume: boolean;
  /** a run session's start (the run is `out` itself, as in `train modpo`); default: the trainer writes config.json */
  startRun?: (config: Record<string, unknown>) => void;
}

export interface PreferenceTrainResult {
  /** the final checkpoint (an HF directory) */
  checkpoint: string;
  /** final training metrics (loss, rewards/accuracies, ...) */
  metrics?: Record<string, number>;
}

export type TrainProgress = (event: { step: number; steps: number; loss?: number }) => void;

export type PreferenceTrainer = (job: PreferenceTrainJob, onProgress?: TrainProgress) => Promise<PreferenceTrainResult>;
