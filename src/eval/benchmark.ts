/**
 * What a benchmark is to alignkit: a name, its own options, a `load` that reads and checks its
 * inputs, and an `open` that loads its models and returns the work (generate and/or score). The
 * evaluation run around it — the folder, lock and resume identity, the judge cache, progress, the
 * summary and report — is `evaluateBenchmark`, the same for every benchmark. A new benchmark is a
 * new `defineBenchmark` added to benchmarks.ts.
 */
import { inputError } from '../errors.ts';
import type { LanguageModel } from '../lm/language-model.ts';
import type { RunOutputs } from '../report/finish-run.ts';
import type { RunTarget } from '../run/run-session.ts';
import type { OptionSpecs, OptionValues } from '../util/option-spec.ts';
import type { Judge, JudgeSettings } from './judge.ts';
import type { RunDir } from '../run/run-dir.ts';
import type { Summary } from '../run/summary.ts';
import type { GenerationSettings } from './chat.ts';
import type { EvalProgress } from './staged-run.ts';

/** The options every benchmark takes (`alignkit eval <benchmark>`'s common flags). */
export interface EvalRunOptions extends RunTarget {
  /** the evaluated model (generates responses): a local path or BASE_URL#MODEL */
  model?: string;
  /** the judge (ratings, preferences, safety guard) */
  judge?: string;
  /** the benchmark's data files */
  data: readonly string[];
  /** existing responses to score instead of generating */
  responses: readonly string[];
  /** the benchmark's own reading of "the first N" (per task, per file, instructions) */
  limit?: number;
  /** model and judge calls in flight */
  concurrency: number;
  /** judge cache, shareable between runs (default OUT/judge-cache) */
  cacheDir?: string;
  /** the evaluated model's sampling, over the benchmark's defaults */
  generation?: Partial<GenerationSettings>;
  judgeSettings?: Partial<JudgeSettings>;
  /** tokenizer of a local --model */
  tokenizer?: string;
  apiKeyEnv?: string;
  /** the benchmark's own options (its `options` spec), validated by it */
  settings?: Readonly<Record<string, unknown>>;
}

/** What a benchmark's `open` gets: the run's options, its folder, and its models loaded once. */
export interface EvalContext<V> {
  options: EvalRunOptions;
  settings: V;
  runDir: RunDir;
  /** the evaluated model's role: a local reference loads with --tokenizer */
  loadModel(ref: string): Promise<LanguageModel>;
  /** a judge on `ref` with the run's judge settings and cache */
  loadJudge(ref: string): Promise<Judge>;
  /** the evaluated model's sampling: the benchmark's defaults with the run's overrides */
  generation(defaults: GenerationSettings): GenerationSettings;
  onProgress(progress: EvalProgress): void;
}

export interface Benchmark<S extends OptionSpecs, Input> {
  name: string;
  summary: string;
  description: string;
  /** what --data and --responses hold for this benchmark */
  dataFormat: string;
  responsesFormat: string;
  options: S;
  /** reads and checks the inputs, before any model is loaded */
  load(options: EvalRunOptions, settings: OptionValues<S>): Input;
  /** loads the models and returns the evaluation itself (which writes results and returns the summary) */
  open(input: Input, context: EvalContext<OptionValues<S>>): Promise<() => Promise<Summary>>;
}

/** A benchmark as the registry holds it: its description, options and how to evaluate with it. */
export interface RegisteredBenchmark {
  name: string;
  summary: string;
  description: string;
  dataFormat: string;
  responsesFormat: string;
  options: OptionSpecs;
  evaluate(options: EvalRunOptions): Promise<RunOutputs>;
}

export function defineBenchmark<const S extends OptionSpecs, Input>(
  benchmark: Benchmark<S, Input>,
): RegisteredBenchmark {
  return {
    ...benchmark,
    // the run machinery (sessions, model loading, onnxruntime) loads only when a benchmark runs,
    // so the registry stays cheap to import for the CLI's flags and help
    evaluate: async (options) => (await import('./evaluate-benchmark.ts')).evaluateWith(benchmark, options),
  };
}

/** --model or --responses, as every benchmark that generates needs one of them. */
export function needModelOrResponses(name: string, o: EvalRunOptions, multipleResponses = false): void {
  if (!o.model && !o.responses.length)
    throw inputError(
      `eval ${name} needs --model REF (to generate responses) or --responses FILE (to score existing ones)`,
    );
  if (o.responses.length > 1 && !multipleResponses)
    throw inputError('--responses takes one file for this benchmark', { field: '--responses' });
}

export function needData(name: string, o: EvalRunOptions, what: string): readonly string[] {
  if (!o.data.length) throw inputError(`eval ${name} needs --data (${what})`, { field: '--data' });
  return o.data;
}
