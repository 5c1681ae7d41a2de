/**
 * What a measurement's figures depend on besides the code: the command line, when it ran, the
 * commit, the threads, the machine's load average at the start and at the end, and the versions of
 * node, onnxruntime and torch (the references' engine). Timed records (`alignkit bench --out`,
 * scripts that time things) keep this beside their figures, so a table generated from them can say
 * what machine state it was measured in.
 */
import { availableParallelism, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { threadCount } from '../engine/session.ts';
import { gitCommit } from '../util/git-commit.ts';
import { torchVersion } from '../util/torch-script.ts';
import { versions } from './run-dir.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface MeasurementConditions {
  /** the command line as typed (arguments with spaces quoted) */
  command: string;
  startedAt: string;
  /** set by `finishConditions` */
  finishedAt?: string;
  /** the checkout's commit ("+changes" when tracked files other than README.md and results/ differ), null outside a git checkout */
  commit: string | null;
  threads: {
    cores: number;
    /** onnxruntime's intra-op threads for models of 10 M parameters or more (smaller ones use 1 unless ALIGNKIT_THREADS is set) */
    onnxruntime: number;
    /** the environment variables that set threads, as they were (null: unset) */
    env: Record<'ALIGNKIT_THREADS' | 'OMP_NUM_THREADS' | 'OPENBLAS_NUM_THREADS', string | null>;
  };
  /** os.loadavg()'s 1-, 5- and 15-minute averages at the start and (after `finishConditions`) the end */
  loadAverage: { start: number[]; end?: number[] };
  versions: Record<string, string | null>;
}

const loadAverageNow = () => loadavg().map((x) => Math.round(x * 100) / 100);

const quoted = (arg: string) => (/^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", `'\\''`)}'`);

/** The conditions at the start of a measurement run by `program` with `args`. */
export function startConditions(program: string, args: readonly string[]): MeasurementConditions {
  const env = (name: string) => process.env[name] ?? null;
  return {
    command: [program, ...args].map(quoted).join(' '),
    startedAt: new Date().toISOString(),
    // the README and results/ are where records go, not code that is measured
    commit: gitCommit(ROOT, ['README.md', 'results']) ?? null,
    threads: {
      cores: availableParallelism(),
      onnxruntime: threadCount(),
      env: {
        ALIGNKIT_THREADS: env('ALIGNKIT_THREADS'),
        OMP_NUM_THREADS: env('OMP_NUM_THREADS'),
        OPENBLAS_NUM_THREADS: env('OPENBLAS_NUM_THREADS'),
      },
    },
    loadAverage: { start: loadAverageNow() },
    versions: { ...versions(), torch: torchVersion() ?? null },
  };
}

/** The conditions with the end time and load average filled in (now). */
export function finishConditions(c: MeasurementConditions): MeasurementConditions {
  return { ...c, finishedAt: new Date().toISOString(), loadAverage: { ...c.loadAverage, end: loadAverageNow() } };
}
