/**
 * Which stages of a multi-stage run have finished, with what each one produced (stages.json in
 * the run folder, rewritten atomically after each stage). A resumed run skips finished stages
 * and reads their outputs back from here.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeJsonAtomic } from '../util/atomic-write.ts';
import { formatError } from '../errors.ts';

export const STAGES_FILE = 'stages.json';

export interface StageRecord<T = unknown> {
  finishedAt: string;
  output: T;
}

export class StageFile {
  private readonly path: string;
  private readonly stages: Record<string, StageRecord>;

  constructor(dir: string) {
    this.path = join(dir, STAGES_FILE);
    if (!existsSync(this.path)) {
      this.stages = {};
      return;
    }
    try {
      this.stages = JSON.parse(readFileSync(this.path, 'utf8'));
    } catch (e) {
      throw formatError(`unreadable stage file (${(e as Error).message}); delete it to redo every stage`, {
        file: this.path,
      });
    }
  }

  finished<T>(stage: string): T | undefined {
    return this.stages[stage]?.output as T | undefined;
  }

  markFinished<T>(stage: string, output: T): T {
    this.stages[stage] = { finishedAt: new Date().toISOString(), output };
    writeJsonAtomic(this.path, this.stages);
    return output;
  }

  /** Runs a stage unless a finished one is recorded; either way returns its output. */
  async run<T>(stage: string, work: () => Promise<T> | T): Promise<T> {
    const done = this.finished<T>(stage);
    if (done !== undefined) return done;
    return this.markFinished(stage, await work());
  }
}
