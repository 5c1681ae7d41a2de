/**
 * CLI start-up to the first token, whole process: `alignkit generate --max-new-tokens 1` on
 * stories260K as the installed bin runs it (compiled JavaScript from dist/), against the same
 * command run from the TypeScript sources through tsx (how the bin ran before the build) and a
 * bare `node -e 0` (the floor). Best of `rounds` runs each, the three taking turns so that machine
 * noise hits all alike.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { inputError } from '../errors.ts';
import type { Figure } from '../util/bench-figure.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BIN = fileURLToPath(new URL('../../bin/alignkit.mjs', import.meta.url));
const SOURCES = fileURLToPath(new URL('../../scripts/alignkit.ts', import.meta.url));

function wallMs(args: readonly string[]): number {
  const t = performance.now();
  const run = spawnSync(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  const ms = performance.now() - t;
  if (run.status !== 0)
    throw inputError(`node ${args.join(' ')} exited with ${run.status}: ${run.stderr.trim().split('\n').pop()}`);
  return ms;
}

/** The start-up figures on a llama2.c checkpoint and its tokenizer. */
export function benchStartup(checkpoint: string, tokenizer: string, rounds = 5): Figure[] {
  const generate = ['generate', '--model', checkpoint, '--tokenizer', tokenizer, '--temperature', '0'];
  const firstToken = [...generate, '--max-new-tokens', '1'];
  const fromSources = existsSync(SOURCES) ? ['--import', 'tsx', SOURCES, ...firstToken] : null;
  const best = { compiled: Infinity, sources: Infinity, node: Infinity };
  for (let i = 0; i < rounds; i++) {
    best.compiled = Math.min(best.compiled, wallMs([BIN, ...firstToken]));
    if (fromSources) best.sources = Math.min(best.sources, wallMs(fromSources));
    best.node = Math.min(best.node, wallMs(['-e', '0']));
  }
  const seconds = (ms: number) => Math.round(ms) / 1000;
  return [
    {
      name: `CLI start-up to first token, compiled bin (best of ${rounds})`,
      value: seconds(best.compiled),
      unit: 's',
      ...(fromSources
        ? {
            reference: {
              name: 'the TypeScript sources through tsx',
              value: seconds(best.sources),
              ratio: best.sources / best.compiled,
            },
          }
        : {}),
    },
    {
      name: '  of which node itself starting (node -e 0)',
      value: seconds(best.node),
      unit: 's',
    },
  ];
}
