/**
 * Runs a module of this project in a child process and resolves with the first message it sends
 * over IPC. A child that exits without one, or with a failure, rejects with the tail of its stderr.
 * From the TypeScript sources the child loads through tsx (however the parent was started); from
 * the compiled package (dist/) it runs the compiled JavaScript as is.
 */
import { fork } from 'node:child_process';
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The module `name` (no extension) beside the caller `importMetaUrl`, as .ts in the sources and .js in dist/. */
export function siblingModule(name: string, importMetaUrl: string): URL {
  return new URL(`./${name}${extname(fileURLToPath(importMetaUrl))}`, importMetaUrl);
}

export function runTsChild<T>(script: URL, args: readonly string[], what: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const path = fileURLToPath(script);
    const inherited = process.execArgv.filter((a) => a !== '--import' && a !== 'tsx');
    const execArgv = path.endsWith('.ts') ? [...inherited, '--import', 'tsx'] : inherited;
    const child = fork(path, [...args], { execArgv, stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
    let stderr = '';
    let answered = false;
    child.stderr?.on('data', (d) => {
      stderr += d;
    });
    child.once('message', (m) => {
      answered = true;
      resolve(m as T);
    });
    child.once('exit', (code) => {
      if (!answered || code !== 0) reject(new Error(`${what} exited with ${code}: ${stderr.slice(-500)}`));
    });
  });
}
