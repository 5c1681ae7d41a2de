/** The benchmarks `alignkit eval` runs, by name (each declared in its own folder with defineBenchmark). */
import { inputError } from '../errors.ts';
import type { RunOutputs } from '../report/finish-run.ts';
import type { EvalRunOptions, RegisteredBenchmark } from './benchmark.ts';
import { conceptMath } from './conceptmath/benchmark.ts';
import { mtBench101 } from './mt-bench-101/benchmark.ts';
import { safety } from './safety/benchmark.ts';
import { winrate } from './winrate/benchmark.ts';

export const BENCHMARKS: readonly RegisteredBenchmark[] = [mtBench101, conceptMath, winrate, safety];

export function benchmarkNamed(name: string): RegisteredBenchmark {
  const found = BENCHMARKS.find((b) => b.name === name);
  if (!found)
    throw inputError(`unknown benchmark "${name}" (expected one of: ${BENCHMARKS.map((b) => b.name).join(', ')})`);
  return found;
}

/** Evaluates with the benchmark `name`: the library function behind `alignkit eval <name>`. */
export function evaluateBenchmark(name: string, options: EvalRunOptions): Promise<RunOutputs> {
  return benchmarkNamed(name).evaluate(options);
}
