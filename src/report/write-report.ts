import { basename, join, resolve } from 'node:path';
import { readRun } from './read-run.ts';
import { renderReport } from './html.ts';
import { writeFileAtomic } from '../util/atomic-write.ts';

/** Renders `dir`/report.html from its summary.json and config.json, atomically; returns its path. */
export function writeReport(dir: string): string {
  const run = readRun(dir);
  const out = join(dir, 'report.html');
  writeFileAtomic(out, renderReport(run.summary, run.config, { runName: basename(resolve(dir)) }));
  return out;
}
