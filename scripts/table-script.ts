/** What the scripts that produce a README results table share: their `--out` folder and its summary.json. */
import { join } from 'node:path';
import { writeJsonAtomic } from '../src/util/atomic-write.ts';
import type { Summary } from '../src/run/summary.ts';

/** The script's arguments and its output folder: `--out DIR`, or `runs/<defaultName>` when given none. */
export function tableScriptOut(script: string, defaultName: string): { args: string[]; out: string } {
  const args = process.argv.slice(2);
  const out = args[0] === '--out' && args[1] ? args[1] : args.length ? undefined : `runs/${defaultName}`;
  if (!out) throw new Error(`usage: node --import tsx ${script} [--out DIR] (got ${args.join(' ')})`);
  return { args, out };
}

/** Writes OUT/summary.json (`npm run readme -- --record` reads it) and says where. */
export function writeTableSummary(out: string, summary: Summary): void {
  writeJsonAtomic(join(out, 'summary.json'), summary);
  console.log(`wrote ${join(out, 'summary.json')}`);
}
