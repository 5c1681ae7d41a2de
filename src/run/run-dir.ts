import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { writeJsonAtomic } from '../util/atomic-write.ts';
import { appendJsonl, readJsonlForResume } from '../util/jsonl.ts';
import { inputError } from '../errors.ts';
import type { Summary } from './summary.ts';

const require = createRequire(import.meta.url);

export function versions(): Record<string, string> {
  const v = (name: string) => {
    try {
      return require(`${name}/package.json`).version as string;
    } catch {
      return 'unknown';
    }
  };
  return { alignkit: readOwnVersion(), node: process.version, 'onnxruntime-node': v('onnxruntime-node') };
}

function readOwnVersion(): string {
  return JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')).version;
}

/**
 * A run folder's files: config.json (resolved, with versions and seeds), results.jsonl (streamed
 * as items finish), summary.json; report/ renders report.html from them. A command's run takes
 * its folder through a RunSession (lock, resume identity); `create` is for the parts of a run that
 * keep their own folder inside it (the stages of `improve`) and for tests: with `resume`, finished
 * results are kept and returned by `finished()`; without it, an existing results file is an error
 * rather than silently overwritten.
 */
export class RunDir {
  readonly dir: string;
  private constructor(dir: string) {
    this.dir = dir;
  }

  static create(dir: string, options: { resume?: boolean; overwrite?: boolean } = {}): RunDir {
    const results = join(dir, 'results.jsonl');
    if (existsSync(results) && !options.resume) {
      if (!options.overwrite)
        throw inputError(`${dir} already holds a run; pass --resume to continue it or choose another --out`, {
          field: '--out',
        });
      rmSync(results);
    }
    mkdirSync(dir, { recursive: true });
    return new RunDir(dir);
  }

  /** The files of an existing folder, unchecked (RunSession checks and locks it). */
  static open(dir: string): RunDir {
    return new RunDir(dir);
  }

  path(name: string): string {
    return join(this.dir, name);
  }

  writeConfig(config: Record<string, unknown>): void {
    writeJsonAtomic(this.path('config.json'), { ...config, versions: versions(), writtenAt: new Date().toISOString() });
  }

  readConfig(): Record<string, unknown> | undefined {
    const p = this.path('config.json');
    return existsSync(p) ? JSON.parse(readFileSync(p, 'utf8')) : undefined;
  }

  /** results already finished (after a kill, a torn last line is dropped) */
  finished<T>(): T[] {
    return readJsonlForResume<T>(this.path('results.jsonl'));
  }

  append(result: unknown): void {
    appendJsonl(this.path('results.jsonl'), result);
  }

  writeSummary(summary: Summary): void {
    writeJsonAtomic(this.path('summary.json'), summary);
  }
}
