/**
 * `alignkit eval <benchmark>`: one subcommand per benchmark of the registry (eval/benchmarks.ts),
 * each with the common evaluation flags and the benchmark's own; each calls `evaluateBenchmark`.
 */
import type { EvalRunOptions, RegisteredBenchmark } from '../eval/benchmark.ts';
import type { RunTarget } from '../run/run-session.ts';
import { BENCHMARKS } from '../eval/benchmarks.ts';
import type { OptionSpecs, OptionValues } from '../util/option-spec.ts';
import { command, group } from './command-spec.ts';
import { printRunEnd } from './run-output.ts';
import { API_KEY_OPTION, RUN_OPTIONS } from './shared-options.ts';

const GENERATION = 'generation';
const JUDGE = 'judge';

function evalOptions(benchmark: RegisteredBenchmark) {
  return {
    model: {
      type: 'string',
      placeholder: 'REF',
      description: 'the evaluated model: a local path, or BASE_URL#MODEL for an OpenAI-compatible server',
    },
    data: { type: 'list', placeholder: 'PATH', description: `the dataset: ${benchmark.dataFormat}` },
    responses: {
      type: 'list',
      placeholder: 'FILE',
      description: `score these responses instead of generating: ${benchmark.responsesFormat}`,
    },
    limit: { type: 'integer', min: 1, description: 'the first N items (how they are counted: see the description)' },
    concurrency: {
      type: 'integer',
      min: 1,
      default: 4,
      identity: false,
      description: 'model and judge calls in flight',
    },
    cacheDir: {
      type: 'string',
      placeholder: 'DIR',
      identity: false,
      description: 'judge cache, shareable between runs (default OUT/judge-cache)',
    },
    tokenizer: {
      type: 'string',
      placeholder: 'PATH',
      identity: false,
      description: 'tokenizer of a local --model that has none beside it',
    },
    ...API_KEY_OPTION,
    maxNewTokens: {
      type: 'integer',
      min: 1,
      group: GENERATION,
      description: "--model's response length (default: the benchmark's)",
    },
    temperature: {
      type: 'number',
      min: 0,
      group: GENERATION,
      description: "--model's temperature (default: the benchmark's)",
    },
    topP: {
      type: 'number',
      min: 0,
      max: 1,
      exclusiveMin: true,
      group: GENERATION,
      description: 'nucleus sampling of --model',
    },
    seed: {
      type: 'integer',
      group: GENERATION,
      description: "base seed of --model's sampling (each item derives its own)",
    },
    judge: {
      type: 'string',
      placeholder: 'REF',
      group: JUDGE,
      description: 'the judge model (MT-Bench-101 ratings, win-rate preferences, safety guard)',
    },
    judgeTemperature: {
      type: 'number',
      min: 0,
      default: 0,
      group: JUDGE,
      description: 'temperature of the first attempt',
    },
    judgeMaxNewTokens: {
      type: 'integer',
      min: 1,
      default: 512,
      group: JUDGE,
      description: "the judge's response length",
    },
    judgeAttempts: {
      type: 'integer',
      min: 1,
      default: 3,
      identity: false,
      group: JUDGE,
      description: 'attempts before a judgement is recorded as a failure',
    },
    ...RUN_OPTIONS,
    ...benchmark.options,
  } as const satisfies OptionSpecs;
}

/** `eval <benchmark>`'s options as the library takes them (the library API calls this too). */
export function evalRun(
  benchmark: RegisteredBenchmark,
  values: OptionValues<ReturnType<typeof evalOptions>>,
  target: RunTarget,
): EvalRunOptions {
  return {
    ...target,
    model: values.model,
    judge: values.judge,
    data: values.data,
    responses: values.responses,
    limit: values.limit,
    concurrency: values.concurrency,
    cacheDir: values.cacheDir,
    tokenizer: values.tokenizer,
    apiKeyEnv: values.apiKeyEnv,
    generation: {
      maxNewTokens: values.maxNewTokens,
      temperature: values.temperature,
      topP: values.topP,
      seed: values.seed,
    },
    judgeSettings: {
      temperature: values.judgeTemperature,
      maxNewTokens: values.judgeMaxNewTokens,
      maxAttempts: values.judgeAttempts,
    },
    settings: Object.fromEntries(
      Object.keys(benchmark.options).map((key) => [key, (values as Record<string, unknown>)[key]]),
    ),
  };
}

const EXAMPLES: Record<string, string> = {
  'mt-bench-101':
    'eval mt-bench-101 --model http://127.0.0.1:8000/v1#stories --judge http://my-vllm:8000/v1#judge --data data/mt-bench-101/mtbench101.jsonl --limit 5 --out runs/mtb',
  conceptmath: 'eval conceptmath --model runs/sft/model --data conceptmath/ --prompt zs --out runs/conceptmath',
  winrate:
    'eval winrate --model runs/dpo/model --judge http://my-vllm:8000/v1#judge --data baseline.json --out runs/winrate',
  safety:
    'eval safety --model chat-model --classifier refusal --data data/advbench/harmful_behaviors.csv --attacks none,role-play --defenses none,system-prompt --limit 50 --out runs/safety',
};

const benchmarkCommands = BENCHMARKS.map((benchmark) =>
  command({
    name: `eval ${benchmark.name}`,
    summary: benchmark.summary,
    description: `${benchmark.description} Stages: with --model, responses are generated (OUT/responses.jsonl); with --responses, given ones are used; with a judge (or rule-based scoring) they are scored (OUT/results.jsonl). Both stream, and --resume continues a killed run.`,
    examples: [EXAMPLES[benchmark.name] ?? `eval ${benchmark.name} --model M --data FILE --out runs/${benchmark.name}`],
    options: evalOptions(benchmark),
    async run(values, context) {
      const { evaluateBenchmark } = await import('../eval/benchmarks.ts');
      const result = await evaluateBenchmark(benchmark.name, evalRun(benchmark, values, context.runTarget()));
      context.progress.stop();
      printRunEnd(result, 'summary.json');
      return 0;
    },
  }),
);

/** The commands by benchmark name, for the library API (which takes the same options). */
export const evalCommands = Object.fromEntries(benchmarkCommands.map((c, i) => [BENCHMARKS[i].name, c]));

export const evalGroup = group({
  name: 'eval',
  noun: 'benchmark',
  summary: 'benchmarks: mt-bench-101, conceptmath, winrate, safety',
  description:
    'Evaluation on a benchmark: responses of --model (local or served) or given --responses, scored by a judge or by rule. Every benchmark writes OUT/responses.jsonl and OUT/results.jsonl (streamed; --resume continues a killed run), OUT/summary.json and OUT/report.html.',
  commands: benchmarkCommands,
});
