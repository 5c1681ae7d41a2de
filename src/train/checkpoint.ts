/**
 * Training checkpoints, written atomically as OUT/checkpoint-<step>/:
 *   model/ or adapter/        the trained weights as an HF (or PEFT) directory
 *   optimizer.safetensors     the optimizer's moments
 *   trainer_state.json        step, data position, counters (see TrainerState)
 * The newest complete one is what --resume continues from; older ones beyond `keep` are removed.
 */
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { formatError } from '../errors.ts';
import { readSafetensors, writeSafetensors } from '../models/safetensors.ts';
import type { Weights } from '../models/weights.ts';
import { writeDirectoryAtomic } from './atomic-directory.ts';
import type { OptimizerState } from './optimizer.ts';

export const TRAINER_STATE = 'trainer_state.json';
export const OPTIMIZER_STATE = 'optimizer.safetensors';

export interface TrainerState {
  /** optimizer steps done */
  step: number;
  /** where the data stands: the epoch and the next batch within it */
  epoch: number;
  batchInEpoch: number;
  /** tokens processed so far, and training time (for throughput across restarts) */
  tokens: number;
  seconds: number;
  /** a fingerprint of the settings that must not change on resume */
  fingerprint: string;
}

const PATTERN = /^checkpoint-(\d+)$/;

export const checkpointDir = (outDir: string, step: number) => join(outDir, `checkpoint-${step}`);

export function listCheckpoints(outDir: string): { step: number; dir: string }[] {
  if (!existsSync(outDir)) return [];
  return readdirSync(outDir)
    .map((name) => ({ name, m: PATTERN.exec(name) }))
    .filter(({ name, m }) => m && existsSync(join(outDir, name, TRAINER_STATE)))
    .map(({ name, m }) => ({ step: Number(m![1]), dir: join(outDir, name) }))
    .sort((a, b) => a.step - b.step);
}

export function saveCheckpoint(
  outDir: string,
  state: TrainerState,
  optimizer: OptimizerState,
  writeModel: (dir: string) => void,
  keep: number,
): string {
  const dir = checkpointDir(outDir, state.step);
  writeDirectoryAtomic(dir, (tmp) => {
    writeModel(tmp);
    const buffers: Weights = new Map(
      [...optimizer.buffers].map(([name, data]) => [name, { shape: [data.length], data }]),
    );
    writeSafetensors(join(tmp, OPTIMIZER_STATE), buffers, { metadata: { step: String(optimizer.step) } });
    writeFileSync(join(tmp, TRAINER_STATE), JSON.stringify(state, null, 2) + '\n');
  });
  for (const old of listCheckpoints(outDir).slice(0, -Math.max(1, keep)))
    rmSync(old.dir, { recursive: true, force: true });
  return dir;
}

export function readCheckpoint(dir: string): { state: TrainerState; optimizer: OptimizerState } {
  const stateFile = join(dir, TRAINER_STATE);
  let state: TrainerState;
  try {
    state = JSON.parse(readFileSync(stateFile, 'utf8'));
  } catch (e) {
    throw formatError(`unreadable trainer state (${(e as Error).message})`, { file: stateFile });
  }
  const buffers = new Map<string, Float32Array>();
  const file = join(dir, OPTIMIZER_STATE);
  if (existsSync(file)) for (const [name, t] of readSafetensors(file)) buffers.set(name, t.data);
  return { state, optimizer: { step: state.step, buffers } };
}
