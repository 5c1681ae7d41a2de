/**
 * The I/O boundary: every file, path and environment access of the layers a web page needs
 * (engine, models, tokenizers, lm native, decode) goes through this module, never `node:*`.
 *
 * In Node it is node:fs, node:path and the process environment, re-exported. A browser bundle
 * replaces this module by io-browser.ts (an in-memory file tree mounted from fetch responses and
 * picked `File` objects), the way a package.json "browser" field swaps a file; see
 * src/playground/bundle.ts. Both export the same names (a test holds this).
 */
export {
  appendFileSync,
  closeSync,
  existsSync,
  fstatSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  renameSync,
  rmSync,
  statSync,
  truncateSync,
  unlinkSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
export { basename, dirname, isAbsolute, join, normalize, resolve, sep } from 'node:path';
export { gunzipSync } from 'node:zlib';

/**
 * A turn for the host between two model steps. Nothing to do in Node (null, so no await is spent
 * on it); in a page (io-browser.ts) it lets the page paint and see clicks, and stops a run whose
 * Stop button was pressed.
 */
export function hostTurn(): Promise<void> | null {
  return null;
}

/** An environment variable (undefined where there is no environment, as in a page). */
export function envVar(name: string): string | undefined {
  return process.env[name];
}

/** This process's id, for temporary file names (0 in a page). */
export function processId(): number {
  return process.pid;
}

/** Whether a process with this id is running (for leftovers of killed saves). */
export function isProcessRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
