/**
 * Runs one of the PyTorch reference scripts in scripts/ and returns the JSON of its last output
 * line, or undefined when there is no python with torch (nothing but `alignkit bench` uses them).
 * Debian's /usr/bin/python3 is preferred: a pyenv python3 earlier on PATH usually lacks torch.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** A python interpreter that imports torch, or undefined. */
export function torchPython(python?: string): string | undefined {
  const interpreter = python ?? (existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3');
  return spawnSync(interpreter, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0 ? interpreter : undefined;
}

export const torchScriptPath = (script: string) => fileURLToPath(new URL(`../../scripts/${script}`, import.meta.url));

export function runTorchScript(script: string, args: readonly string[], python?: string): any | undefined {
  const interpreter = torchPython(python);
  if (!interpreter) return undefined;
  const run = spawnSync(interpreter, [torchScriptPath(script), ...args], { encoding: 'utf8' });
  const line = run.status === 0 ? run.stdout.trim().split('\n').pop() : undefined;
  return line ? JSON.parse(line) : undefined;
}

/** The torch version the reference scripts run with, or undefined when there is no python with torch. */
export function torchVersion(python?: string): string | undefined {
  const interpreter = python ?? (existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3');
  const run = spawnSync(interpreter, ['-c', 'import torch; print(torch.__version__)'], { encoding: 'utf8' });
  return run.status === 0 ? run.stdout.trim() : undefined;
}
