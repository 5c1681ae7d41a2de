import {
  appendFileSync,
  basename,
  closeSync,
  dirname,
  existsSync,
  fsyncSync,
  join,
  mkdirSync,
  openSync,
  processId,
  renameSync,
  rmSync,
  statSync,
  truncateSync,
  writeFileSync,
  writeSync,
} from './io.ts';
import { AlignkitError } from '../errors.ts';

const REASONS: Record<string, string> = {
  ENOSPC: 'no space left on the device',
  EDQUOT: 'the disk quota is used up',
  EFBIG: 'the file would exceed the size limit',
  EACCES: 'permission denied',
  EROFS: 'the file system is read-only',
};

/** A failed write as a one-line error that names the file (Node's own names only the call: "ENOSPC: …, write"). */
export function writeFailure(path: string, error: unknown): unknown {
  const code = (error as NodeJS.ErrnoException)?.code;
  if (code === undefined || error instanceof AlignkitError) return error;
  return new AlignkitError('io', `cannot write the file: ${REASONS[code] ?? (error as Error).message} (${code})`, {
    file: path,
  });
}

/**
 * Writes a file through `write(fd)` (a temporary file beside it, synced, then renamed into place),
 * so that readers see either the old or the whole new content, never a half; a failed or killed
 * write leaves the previous file or none.
 */
export function writeThroughAtomic(path: string, write: (fd: number) => void): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = join(dirname(path), `.${basename(path)}.${processId()}.${Date.now()}.tmp`);
  let fd: number | null = null;
  try {
    fd = openSync(tmp, 'w');
    write(fd);
    fsyncSync(fd);
    closeSync(fd);
    fd = null;
    renameSync(tmp, path);
  } catch (e) {
    if (fd !== null) closeSync(fd);
    rmSync(tmp, { force: true });
    throw writeFailure(path, e);
  }
}

/** Writes all of `bytes` at the file's position (writeSync may write less than asked; at most 1 GiB a call). */
export function writeAll(fd: number, bytes: Uint8Array): void {
  let done = 0;
  while (done < bytes.length) done += writeSync(fd, bytes, done, Math.min(1 << 30, bytes.length - done));
}

/** Writes a file so that readers see either the old or the whole new content, never a half. */
export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  writeThroughAtomic(path, (fd) => writeFileSync(fd, data));
}

export function writeJsonAtomic(path: string, value: unknown): void {
  writeFileAtomic(path, JSON.stringify(value, null, 2) + '\n');
}

/**
 * Appends `data` whole or not at all: an append that fails part way (the disk filled up) is
 * cut back off, so the file ends where it ended before, and the error names the file.
 */
export function appendWhole(path: string, data: string | Uint8Array): void {
  const before = existsSync(path) ? statSync(path).size : 0;
  try {
    appendFileSync(path, data);
  } catch (e) {
    try {
      truncateSync(path, before);
    } catch {
      /* the error below is the one to report */
    }
    throw writeFailure(path, e);
  }
}
