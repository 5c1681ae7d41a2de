/**
 * A run from start to end, the same for every command that writes one: it takes the run folder
 * (creating it, or continuing it with `resume`) under an exclusive lock, refuses a folder that
 * holds another run or a resume with other settings, shows progress, loads each model once, and
 * writes the run's files only once the run has really started — a run that fails while loading
 * its models or checking its inputs leaves nothing behind.
 *
 *     const session = RunSession.open({ command: 'steer', out, resume, identity });
 *     try {
 *       const large = await session.models.load(ref);   // may fail: nothing written yet
 *       session.start({ settings });                      // config.json
 *       session.folder.append(record);                    // results.jsonl, streamed
 *       session.folder.writeSummary(summary);             // summary.json (report/ renders it)
 *     } finally {
 *       await session.close();                            // models disposed, lock released
 *     }
 */
import { existsSync, mkdirSync, readdirSync, rmdirSync } from 'node:fs';
import { AlignkitError, inputError } from '../errors.ts';
import { ModelPool, type PoolOptions } from './model-pool.ts';
import type { ProgressCallback } from './progress.ts';
import { checkResumeIdentity, type ResumeIdentity } from './resume-identity.ts';
import { RunLock, LOCK_FILE } from './run-lock.ts';
import { RunDir } from './run-dir.ts';

/** Where a run goes and how: the part of every run-writing function's options that the session handles. */
export interface RunTarget {
  /** the run folder */
  out: string;
  /** continue the run already in `out` without repeating finished work */
  resume?: boolean;
  /**
   * the settings that make a resumed run the same run (the CLI passes the flags its command
   * specification marks as identity); a resume with different values is refused
   */
  identity?: ResumeIdentity;
  /** progress of the work (default: not shown) */
  onProgress?: ProgressCallback;
  /** hears that a stale lock was taken over (default: process.emitWarning) */
  onWarning?: (message: string) => void;
}

export interface SessionOptions extends RunTarget {
  /** the command the run belongs to, e.g. "steer", "eval conceptmath"; a folder holds runs of one command */
  command: string;
  /** how the run's models load (API key variable, concurrency, tokenizers) */
  models?: PoolOptions;
}

export class RunSession {
  readonly folder: RunDir;
  readonly models: ModelPool;
  readonly progress: ProgressCallback;
  /** config.json of the run being resumed (undefined for a new run) */
  readonly previousConfig: Record<string, unknown> | undefined;
  private started = false;
  private closed = false;

  private constructor(
    readonly command: string,
    readonly identity: ResumeIdentity,
    private readonly lock: RunLock,
    private readonly createdFolder: boolean,
    options: SessionOptions,
  ) {
    this.folder = RunDir.open(options.out);
    this.models = new ModelPool(options.models);
    this.progress = options.onProgress ?? (() => undefined);
    this.previousConfig = this.folder.readConfig();
  }

  /**
   * Takes `options.out` for this run. Refused, before anything is written: a folder in use by a
   * live run (naming its pid), one that holds a finished or killed run without `resume`, a
   * resume of another command's run or with another identity.
   */
  static open(options: SessionOptions): RunSession {
    const dir = options.out;
    const createdFolder = !existsSync(dir);
    mkdirSync(dir, { recursive: true });
    const warn = options.onWarning ?? ((message: string) => process.emitWarning(message));
    const lock = RunLock.acquire(dir, options.command, warn);
    let session: RunSession | undefined;
    try {
      session = new RunSession(options.command, options.identity ?? {}, lock, createdFolder, options);
      if (session.previousConfig && !options.resume)
        throw inputError(`${dir} already holds a run; pass --resume to continue it or choose another --out`, {
          field: '--out',
        });
      if (options.resume) checkResumeIdentity(dir, session.previousConfig, options.command, session.identity);
      return session;
    } catch (e) {
      lock.release();
      if (createdFolder) removeIfEmpty(dir);
      throw e;
    }
  }

  get dir(): string {
    return this.folder.dir;
  }

  /** true when this run continues one that was started before (its config.json exists) */
  get resuming(): boolean {
    return this.previousConfig !== undefined;
  }

  /**
   * The run has really started: its models loaded and inputs checked. Writes config.json (the
   * command, its identity, the resolved `config`, versions); before this, the folder is untouched.
   */
  start(config: Record<string, unknown>): void {
    if (this.closed) throw new AlignkitError('internal', `the run session of ${this.dir} is closed`);
    this.folder.writeConfig({ command: this.command, identity: this.identity, ...config });
    this.started = true;
  }

  /** Frees the models and the lock; a run that never started leaves no folder it created. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      await this.models.dispose();
    } finally {
      this.lock.release();
      if (!this.started && this.createdFolder) removeIfEmpty(this.dir);
    }
  }
}

/** Removes a folder this run created if nothing but (at most) its lock was left in it. */
function removeIfEmpty(dir: string): void {
  try {
    if (readdirSync(dir).every((name) => name === LOCK_FILE)) rmdirSync(dir);
  } catch {
    // another process wrote into it meanwhile: leave it
  }
}
