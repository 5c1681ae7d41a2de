/**
 * Evaluation as a library (`alignkit/eval`): the benchmarks of eval/benchmarks.ts (MT-Bench-101,
 * ConceptMath, length-controlled win rate, safety), each taking the flags of its `alignkit eval`
 * command as an options object and writing the same run folder (responses, results, summary, report).
 */
import type { RunOutputs } from '../report/finish-run.ts';
import { checkOptions, RUN_CALLBACKS, runTargetOf, type RunCallbacks } from './check-options.ts';
import type { OptionSourceName } from './option-sources.ts';
import type * as Options from './option-types.ts';

const SOURCES: Record<string, { source: OptionSourceName; fn: string }> = {
  'mt-bench-101': { source: 'MtBench101Options', fn: 'evaluateMtBench101' },
  conceptmath: { source: 'ConceptMathOptions', fn: 'evaluateConceptMath' },
  winrate: { source: 'WinRateOptions', fn: 'evaluateWinRate' },
  safety: { source: 'SafetyOptions', fn: 'evaluateSafety' },
};

/** The benchmark `name` (mt-bench-101, conceptmath, winrate, safety) with the options of `alignkit eval <name>`. */
export async function evaluateBenchmark(name: string, options: object & RunCallbacks): Promise<RunOutputs> {
  const { benchmarkNamed, evaluateBenchmark: runBenchmark } = await import('../eval/benchmarks.ts');
  const { evalRun } = await import('../cli/eval.ts');
  const benchmark = benchmarkNamed(name);
  const { source, fn } = SOURCES[benchmark.name];
  const checked = await checkOptions(source, fn, options, RUN_CALLBACKS);
  return runBenchmark(
    benchmark.name,
    evalRun(benchmark, checked.values as Parameters<typeof evalRun>[1], runTargetOf(checked)),
  );
}

/** MT-Bench-101: multi-turn dialogues scored by a judge, per task and ability (`alignkit eval mt-bench-101`). */
export function evaluateMtBench101(options: Options.MtBench101Options & RunCallbacks): Promise<RunOutputs> {
  return evaluateBenchmark('mt-bench-101', options);
}

/** ConceptMath: concept-wise math accuracy, English and Chinese (`alignkit eval conceptmath`). */
export function evaluateConceptMath(options: Options.ConceptMathOptions & RunCallbacks): Promise<RunOutputs> {
  return evaluateBenchmark('conceptmath', options);
}

/** AlpacaEval-style length-controlled win rate against baseline responses (`alignkit eval winrate`). */
export function evaluateWinRate(options: Options.WinRateOptions & RunCallbacks): Promise<RunOutputs> {
  return evaluateBenchmark('winrate', options);
}

/** Safety: harmful rate under attacks and defenses (`alignkit eval safety`). */
export function evaluateSafety(options: Options.SafetyOptions & RunCallbacks): Promise<RunOutputs> {
  return evaluateBenchmark('safety', options);
}

export type { RunOutputs };
export type { MtBench101Options, ConceptMathOptions, WinRateOptions, SafetyOptions } from './option-types.ts';
