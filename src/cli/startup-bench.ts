/**
 * CLI start-up to the first token, whole process: `alignkit generate --max-new-tokens 1` on
 * stories260K as the installed bin runs it (compiled JavaScript from dist/), against the same
 * command run from the TypeScript sources through tsx (how the bin ran before the build) and a
 * bare `node -e 0` (the floor). Best of `rounds` runs each, the three taking turns so that machine
 * noise hits all alike.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { timedProcessMs } from '../util/timed-process.ts';
import type { Figure } from '../util/bench-figure.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BIN = fileURLToPath(new URL('../../bin/alignkit.mjs', import.meta.url));
const SOURCES = fileURLToPath(new URL('../../scripts/alignkit.ts', import.meta.url));

/** The start-up figures on a llama2.c checkpoint and its tokenizer. */
export function benchStartup(checkpoint: string, tokenizer: string, rounds = 5): Figure[] {
  const generate = ['generate', '--model', checkpoint, '--tokenizer', tokenizer, '--temperature', '0'];
  const firstToken = [...generate, '--max-new-tokens', '1'];
  const fromSources = existsSync(SOURCES) ? ['--import', 'tsx', SOURCES, ...firstToken] : null;
  const best = { compiled: Infinity, sources: Infinity, node: Infinity };
  for (let i = 0; i < rounds; i++) {
    best.compiled = Math.min(best.compiled, timedProcessMs(process.execPath, [BIN, ...firstToken], ROOT));
    if (fromSources) best.sources = Math.min(best.sources, timedProcessMs(process.execPath, fromSources, ROOT));
    best.node = Math.min(best.node, timedProcessMs(process.execPath, ['-e', '0'], ROOT));
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
