/**
 * The browser side of the I/O boundary (io.ts): an in-memory file tree. A page mounts files
 * (fetched embedded models, `File` objects the user picked) with `mountFile`; the synchronous
 * readers the model and tokenizer loaders use then work unchanged. Nothing is written and
 * nothing leaves the page: the write functions refuse.
 */

const files = new Map<string, Uint8Array>();

export const sep = '/';

export function normalize(path: string): string {
  const absolute = path.startsWith('/');
  const parts: string[] = [];
  for (const part of path.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..' && parts.length && parts[parts.length - 1] !== '..') parts.pop();
    else if (part !== '..' || !absolute) parts.push(part);
  }
  const joined = parts.join('/');
  return absolute ? '/' + joined : joined || '.';
}

export const isAbsolute = (path: string) => path.startsWith('/');
export const join = (...parts: string[]) => normalize(parts.filter((p) => p !== '').join('/'));
export const resolve = (...parts: string[]) => {
  let path = '';
  for (const part of parts) path = isAbsolute(part) ? part : path ? `${path}/${part}` : part;
  return normalize(isAbsolute(path) ? path : '/' + path);
};
export function dirname(path: string): string {
  const clean = normalize(path);
  const cut = clean.lastIndexOf('/');
  return cut < 0 ? '.' : cut === 0 ? '/' : clean.slice(0, cut);
}
export function basename(path: string, suffix?: string): string {
  const name = normalize(path).split('/').pop() ?? '';
  return suffix && name.endsWith(suffix) ? name.slice(0, -suffix.length) : name;
}

/** Puts a file into the tree (replacing one at the same path). */
export function mountFile(path: string, bytes: Uint8Array): void {
  files.set(resolve(path), bytes);
}

/** Removes every file at or under `path` (a model the user replaces). */
export function unmount(path: string): void {
  const root = resolve(path);
  for (const name of [...files.keys()]) if (name === root || name.startsWith(root + '/')) files.delete(name);
}

const isDir = (path: string) => {
  const prefix = path === '/' ? '/' : path + '/';
  for (const name of files.keys()) if (name.startsWith(prefix)) return true;
  return false;
};

function notFound(path: string): Error {
  return Object.assign(new Error(`ENOENT: no such file or directory, '${path}'`), { code: 'ENOENT' });
}

export function existsSync(path: string): boolean {
  const p = resolve(path);
  return files.has(p) || isDir(p);
}

interface Stats {
  size: number;
  isFile(): boolean;
  isDirectory(): boolean;
}

export function statSync(path: string): Stats {
  const p = resolve(path);
  const file = files.get(p);
  if (!file && !isDir(p)) throw notFound(path);
  return { size: file?.length ?? 0, isFile: () => file !== undefined, isDirectory: () => file === undefined };
}

export function readdirSync(path: string): string[] {
  const p = resolve(path);
  if (!isDir(p)) throw notFound(path);
  const prefix = p === '/' ? '/' : p + '/';
  const names = new Set<string>();
  for (const name of files.keys()) if (name.startsWith(prefix)) names.add(name.slice(prefix.length).split('/')[0]);
  return [...names].sort();
}

export function readFileSync(path: string): Uint8Array;
export function readFileSync(path: string, encoding: 'utf8' | 'utf-8' | 'latin1'): string;
export function readFileSync(path: string, encoding?: string): Uint8Array | string {
  const file = files.get(resolve(path));
  if (!file) throw notFound(path);
  return encoding ? new TextDecoder(encoding === 'latin1' ? 'latin1' : 'utf-8').decode(file) : file;
}

const open = new Map<number, Uint8Array>();
let nextFd = 3;

export function openSync(path: string, flags = 'r'): number {
  if (flags !== 'r') throw new Error(`files cannot be written in a web page: ${path}`);
  const file = files.get(resolve(path));
  if (!file) throw notFound(path);
  open.set(nextFd, file);
  return nextFd++;
}

function opened(fd: number): Uint8Array {
  const file = open.get(fd);
  if (!file) throw Object.assign(new Error('EBADF: bad file descriptor'), { code: 'EBADF' });
  return file;
}

export function readSync(fd: number, buffer: Uint8Array, offset: number, length: number, position: number): number {
  const file = opened(fd);
  const n = Math.max(0, Math.min(length, file.length - position));
  buffer.set(file.subarray(position, position + n), offset);
  return n;
}

export const fstatSync = (fd: number): Stats => {
  const file = opened(fd);
  return { size: file.length, isFile: () => true, isDirectory: () => false };
};

export function closeSync(fd: number): void {
  open.delete(fd);
}

function readOnly(): never {
  throw new Error('files cannot be written in a web page');
}
export const appendFileSync = readOnly;
export const fsyncSync = readOnly;
export const mkdirSync = readOnly;
export const renameSync = readOnly;
export const rmSync = readOnly;
export const truncateSync = readOnly;
export const unlinkSync = readOnly;
export const writeFileSync = readOnly;
export const writeSync = readOnly;

export function gunzipSync(): never {
  throw new Error('gzip-compressed files cannot be read in a web page; pick the uncompressed file');
}

/** Model steps throw once this is aborted (a page's Stop button); cleared with `null`. */
let stopSignal: AbortSignal | null = null;
export function abortStepsOn(signal: AbortSignal | null): void {
  stopSignal = signal;
}

let lastTurn = 0;

/**
 * Called before every model step. WebAssembly runs on the page's thread and a step resolves as a
 * microtask, so without this a page would neither show tokens as they come nor see a Stop click
 * until a method is done: every ~30 ms it gives the page a turn (through a message channel, which
 * browsers do not clamp as they clamp setTimeout to 4 ms), and it throws once Stop was pressed.
 */
export function hostTurn(): Promise<void> | null {
  stopSignal?.throwIfAborted();
  if (performance.now() - lastTurn < 30) return null;
  return new Promise<void>((resume) => {
    const channel = new MessageChannel();
    channel.port1.onmessage = () => resume();
    channel.port2.postMessage(null);
  }).then(() => {
    lastTurn = performance.now();
    stopSignal?.throwIfAborted();
  });
}

export const envVar = (_name: string): string | undefined => undefined;
export const processId = () => 0;
export const isProcessRunning = (_pid: number) => false;
