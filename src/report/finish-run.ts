/** The end of every run: its summary written (summary.json, full precision) and its report rendered from it. */
import type { RunDir } from '../run/run-dir.ts';
import type { Summary } from '../run/summary.ts';
import { writeReport } from './write-report.ts';

export interface RunOutputs {
  summary: Summary;
  /** the run folder, and its summary.json and report.html */
  dir: string;
  summaryPath: string;
  reportPath: string;
}

export function finishRun(folder: RunDir, summary: Summary): RunOutputs {
  folder.writeSummary(summary);
  return { summary, dir: folder.dir, summaryPath: folder.path('summary.json'), reportPath: writeReport(folder.dir) };
}
