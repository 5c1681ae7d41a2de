/**
 * An exclusive lock on a run folder for the life of a run: a file created atomically (a hard link
 * of a complete file, or O_EXCL) holding the owner's pid, host and command. A second run into the same folder finds the file,
 * sees that its owner is alive and is refused; a lock left by a killed process (its pid is gone,
 * or now belongs to a process started later) is taken over, and the caller is told so.
 */
import { hostname } from 'node:os';
import {
  closeSync,
  existsSync,
  linkSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { AlignkitError, inputError } from '../errors.ts';

export const LOCK_FILE = 'run.lock';

export interface LockOwner {
  pid: number;
  host: string;
  /** the process's start time in clock ticks since boot (Linux), so that a reused pid is not taken for the owner */
  processStart: number | null;
  command: string;
  startedAt: string;
}

/** Field 22 of /proc/PID/stat (the start time), and whether the process is a zombie; null off Linux. */
function procStat(pid: number): { start: number; zombie: boolean } | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  // the command name (field 2) is in parentheses and may hold spaces: split after its closing one
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return { start: Number(fields[19]), zombie: fields[0] === 'Z' };
}

function isAlive(owner: LockOwner): boolean {
  if (owner.host !== hostname()) return true; // cannot see another machine's processes: assume it runs
  try {
    process.kill(owner.pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ESRCH') return false;
  }
  const stat = procStat(owner.pid);
  if (!stat) return existsSync('/proc/self/stat') ? false : true;
  if (stat.zombie) return false;
  return owner.processStart === null || stat.start === owner.processStart;
}

function readOwner(path: string): LockOwner | null {
  try {
    const owner = JSON.parse(readFileSync(path, 'utf8')) as LockOwner;
    return Number.isInteger(owner?.pid) ? owner : null;
  } catch {
    return null; // gone, or unreadable (a file system without hard links, killed mid-write): treated as stale
  }
}

const describe = (owner: LockOwner) =>
  `pid ${owner.pid}${owner.host === hostname() ? '' : ` on ${owner.host}`}, ${owner.command}, since ${owner.startedAt}`;

export class RunLock {
  private released = false;
  private constructor(
    readonly path: string,
    readonly owner: LockOwner,
  ) {}

  /**
   * Takes the lock of `dir` (which must exist). `onStale` hears about a dead owner's lock being
   * taken over. A live owner's lock is an error naming the folder and the owner's pid.
   */
  static acquire(dir: string, command: string, onStale: (message: string) => void): RunLock {
    const path = join(dir, LOCK_FILE);
    const owner: LockOwner = {
      pid: process.pid,
      host: hostname(),
      processStart: procStat(process.pid)?.start ?? null,
      command,
      startedAt: new Date().toISOString(),
    };
    for (let attempt = 0; attempt < 5; attempt++) {
      if (tryCreate(path, owner)) return new RunLock(path, owner);
      const holder = readOwner(path);
      if (holder && isAlive(holder))
        throw inputError(
          `${dir} is in use by another run (${describe(holder)}); wait for it to end or choose another --out`,
        );
      if (takeOver(path, holder)) {
        onStale(
          `${dir}: taking over the lock of a run that is no longer running (${holder ? describe(holder) : 'unreadable lock file'})`,
        );
        if (tryCreate(path, owner)) return new RunLock(path, owner);
      }
    }
    throw new AlignkitError('internal', `could not take the lock ${path}: other processes keep replacing it`);
  }

  /** Removes the lock file if it is still ours (idempotent). */
  release(): void {
    if (this.released) return;
    this.released = true;
    const now = readOwner(this.path);
    if (now && now.pid === this.owner.pid && now.startedAt === this.owner.startedAt) rmSync(this.path, { force: true });
  }
}

/**
 * Creates the lock file only if none exists, with its whole content at once: the owner is written
 * to a private file that is then hard-linked to the lock's name (link fails if the name exists), so
 * of two racing runs exactly one succeeds and nobody ever reads a half-written lock. Where the
 * file system has no hard links, an exclusive create (O_EXCL) does the same but for that last point.
 */
function tryCreate(path: string, owner: LockOwner): boolean {
  const text = JSON.stringify(owner) + '\n';
  const own = `${path}.${process.pid}.${Date.now()}.tmp`;
  try {
    writeFileSync(own, text);
    linkSync(own, path);
    return true;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return false;
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP')
      throw inputError(`cannot create the run lock (${(e as Error).message})`, { file: path });
  } finally {
    rmSync(own, { force: true });
  }
  let fd: number;
  try {
    fd = openSync(path, 'wx');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw inputError(`cannot create the run lock (${(e as Error).message})`, { file: path });
  }
  try {
    writeSync(fd, text);
  } finally {
    closeSync(fd);
  }
  return true;
}

/**
 * Moves a stale lock aside. The rename is atomic, so of two runs taking over the same stale lock
 * one moves it; if what was moved is not the stale lock that was read (another run took it over
 * in between and wrote its own), it is put back and the caller starts again.
 */
function takeOver(path: string, stale: LockOwner | null): boolean {
  const aside = `${path}.${process.pid}.stale`;
  try {
    renameSync(path, aside);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return true; // already gone: try to create
    throw e;
  }
  const moved = readOwner(aside);
  const same =
    moved === null ? stale === null : stale !== null && moved.pid === stale.pid && moved.startedAt === stale.startedAt;
  if (!same) {
    try {
      linkSync(aside, path);
    } catch {
      // a third run created a lock meanwhile; the next attempt reads it
    }
  }
  rmSync(aside, { force: true });
  return same;
}
