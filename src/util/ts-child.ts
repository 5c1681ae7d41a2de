/**
 * Runs a TypeScript script of this project in a child process (through tsx, however the parent
 * was started) and resolves with the first message it sends over IPC. A child that exits
 * without one, or with a failure, rejects with the tail of its stderr.
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export function runTsChild<T>(script: URL, args: readonly string[], what: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const execArgv = [...process.execArgv.filter((a) => a !== '--import' && a !== 'tsx'), '--import', 'tsx'];
    const child = fork(fileURLToPath(script), [...args], { execArgv, stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
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
