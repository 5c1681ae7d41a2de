/**
 * Learning-rate schedules as HF's get_*_schedule_with_warmup define them: a linear warmup from
 * 0 over `warmup` steps (step 0 of a warmup runs at lr 0), then constant, linear decay to 0 at
 * the last step, or a half cosine to 0.
 */
import { inputError } from '../errors.ts';

export type ScheduleKind = 'constant' | 'linear' | 'cosine';
export const SCHEDULES: readonly ScheduleKind[] = ['constant', 'linear', 'cosine'];

export interface Schedule {
  kind: ScheduleKind;
  /** peak learning rate */
  lr: number;
  warmup: number;
  totalSteps: number;
}

export function checkSchedule(s: Schedule): void {
  if (!SCHEDULES.includes(s.kind))
    throw inputError(`unknown schedule "${s.kind}" (expected ${SCHEDULES.join(', ')})`, { field: 'schedule' });
  if (!(s.lr >= 0) || !Number.isFinite(s.lr))
    throw inputError(`the learning rate must be a non-negative number, got ${s.lr}`, { field: 'lr' });
  if (!Number.isInteger(s.warmup) || s.warmup < 0)
    throw inputError(`warmup must be a non-negative integer, got ${s.warmup}`, { field: 'warmup' });
}

/** The learning rate of optimizer step `step` (0-based). */
export function learningRate(s: Schedule, step: number): number {
  if (step < s.warmup) return (s.lr * step) / Math.max(1, s.warmup);
  if (s.kind === 'constant') return s.lr;
  const progress = (step - s.warmup) / Math.max(1, s.totalSteps - s.warmup);
  if (s.kind === 'linear') return s.lr * Math.max(0, 1 - progress);
  return s.lr * Math.max(0, 0.5 * (1 + Math.cos(Math.PI * progress)));
}
