import { spawnSync } from 'node:child_process';
import { inputError } from '../errors.ts';

/** Wall time in ms of a whole process (a bench figure: start-up included); a failed run is an error naming it. */
export function timedProcessMs(command: string, args: readonly string[], cwd?: string): number {
  const t = performance.now();
  const run = spawnSync(command, args, { cwd, stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  const ms = performance.now() - t;
  if (run.status !== 0)
    throw inputError(`${command} ${args.join(' ')} exited with ${run.status}: ${run.stderr.trim().split('\n').pop()}`, {
      file: command,
    });
  return ms;
}
