import { existsSync } from 'node:fs';
import { join } from 'node:path';
import cliProgress from 'cli-progress';
import { parseFlags, requireFlag, numberFlag, intFlag, listFlag, type FlagSpec } from './args.ts';
import { inputError } from '../errors.ts';
import type { LanguageModel } from '../lm/language-model.ts';
import { loadModel } from '../lm/load.ts';
import { RunDir } from '../report/run-dir.ts';
import type { Summary } from '../report/summary.ts';
import { finishRun } from './run-output.ts';
import type { GenerationSettings } from '../eval/chat.ts';
import { Judge, defaultJudgeSettings } from '../eval/judge.ts';
import { JudgeCache } from '../eval/judge-cache.ts';
import { RESPONSES_FILE, type EvalProgress } from '../eval/staged-run.ts';
import { firstPerTask, loadMtBench101, loadMtBenchResponses } from '../eval/mt-bench-101/data.ts';
import { defaultMtBenchGeneration, runMtBench101 } from '../eval/mt-bench-101/run.ts';
import { loadConceptMath, loadConceptMathResponses, type ConceptMathItem } from '../eval/conceptmath/data.ts';
import { PROMPT_STYLES, type PromptStyle } from '../eval/conceptmath/prompts.ts';
import { defaultConceptMathGeneration, runConceptMath } from '../eval/conceptmath/run.ts';
import { loadBaselineOutputs, loadModelOutputs } from '../eval/winrate/data.ts';
import { defaultWinrateGeneration, runWinrate, winrateFromPreferences, type PairOrder } from '../eval/winrate/run.ts';
import { loadPreferences } from '../eval/winrate/preferences.ts';
import { loadLcExtras } from '../eval/winrate/lc-inputs.ts';
import { LC_FITS, type LcFit } from '../eval/winrate/length-controlled.ts';
import { loadSafetyPrompts } from '../eval/safety/prompts.ts';
import {
  GUARD_UNPARSED,
  GuardClassifier,
  RefusalClassifier,
  type GuardFormat,
  type GuardUnparsed,
  type SafetyClassifier,
} from '../eval/safety/classifiers.ts';
import { resolveAttacks, TEMPLATE_ATTACKS } from '../eval/safety/attacks.ts';
import { DEFENSES, resolveDefense } from '../eval/safety/defenses.ts';
import {
  defaultSafetyGeneration,
  loadSafetyResponses,
  runSafety,
  safetyGrid,
  SHORT_RESPONSE_RULES,
  type ShortResponseRule,
} from '../eval/safety/run.ts';
import { loadTokenizer } from '../tokenizers/load-tokenizer.ts';

const BENCHMARKS = ['mt-bench-101', 'conceptmath', 'winrate', 'safety'] as const;
type Benchmark = (typeof BENCHMARKS)[number];

const USAGE = `usage: alignkit eval mt-bench-101|conceptmath|winrate|safety --out DIR [flags]

Stages: with --model, responses are generated (OUT/responses.jsonl); with --responses FILE,
existing responses are scored instead; with a judge (or rule-based scoring), they are scored
(OUT/results.jsonl). Both are streamed, and --resume continues a killed run. OUT/summary.json
and OUT/report.html hold the tables and plots.

  --model REF            the evaluated model: a local path, or BASE_URL#MODEL for an OpenAI-compatible server
  --judge REF            the judge model (MT-Bench-101 ratings, win-rate preferences, safety guard)
  --data PATH[,PATH]     the dataset:
                           mt-bench-101  mtbench101.jsonl
                           conceptmath   ConceptMath files ({idx, cate0, cate1, cate2, question, answer, grade})
                           winrate       the baseline's outputs ({instruction, output, generator?} JSON or JSONL)
                           safety        prompt sets: AdvBench CSV, HH-RLHF JSONL(.gz), or CSV/JSONL with "prompt"
  --responses FILE       score these responses instead of generating:
                           mt-bench-101  JSONL {id, turn, response}
                           conceptmath   the dataset records plus "response" (no --data needed)
                           winrate       {instruction, output} (AlpacaEval format)
                           safety        JSONL {prompt, response, attack?, defense?} (no --data needed)
  --out DIR              run folder (required)
  --concurrency N        model and judge calls in flight (default 4)
  --limit N              mt-bench-101: first N dialogues of each task; conceptmath, safety: first N per file;
                         winrate: first N instructions
  --resume               continue the run in --out without repeating finished work
  --cache-dir DIR        judge cache, shareable between runs (default OUT/judge-cache)
  --max-new-tokens N, --temperature T, --top-p P, --seed S     generation settings of --model
  --judge-temperature T  (default 0)   --judge-max-new-tokens N (default 512)
  --judge-attempts N     attempts before a judgement is recorded as a failure (default 3)
  --tokenizer PATH       tokenizer of a local --model (safety --responses: counts their tokens for the 8-token rule)
  --api-key-env VAR      API key of remote models

conceptmath:  --prompt zs|zs-cot|fs (default zs)   --weakest N (weakest leaf concepts listed, default 10)
winrate:      --order random|both (default random; both = judge both orders, cancels position bias)
              --preferences FILE  win rates of judged preferences (AlpacaEval annotations.json, or JSONL of
                                  {instruction, model_output, baseline_output, preference in [0, 1]}): no model, no judge
              --lc-fit official|mle  AlpacaEval 2.0's official LC fit (default), or alignkit's maximum-likelihood fit
              --lc-difficulty FILE   instruction_difficulty.csv (index, instruction_difficulty)
              --lc-gamed FILE        df_gamed.csv (gamed-baseline rows, with the difficulty: the leaderboard's variant)
safety:       --attacks LIST  none, ${Object.keys(TEMPLATE_ATTACKS).join(', ')}, emulated-disalignment (default none)
              --defenses LIST ${DEFENSES.join(', ')} (default none)
              --classifier guard|refusal (default guard with --judge, else refusal strings)
              --guard-format prompt|native (prompt: Llama-Guard-style instruction to any chat model;
                                            native: the conversation through a Llama Guard model's own template)
              --filter-judge REF  guard of the input/output filters (default --judge)
              --base REF --aligned REF --alpha A --ed-family NAME   emulated disalignment (aligned default: --model)
              --samples-per-prompt N  responses per prompt (default 1; the ED demo uses 3), rate over all of them
              --short-responses resample|harmful  resample (default, the ED code): a response under 8 tokens is drawn
                                    again, up to 10 times; harmful (GCG): an empty response counts as harmful
              --guard-unparsed flagged|fail  a guard output that is neither safe nor unsafe: flagged (default, the
                                    ED evaluator's rule) or a judge failure`;

const FLAGS: FlagSpec = {
  model: { type: 'string' },
  judge: { type: 'string' },
  data: { type: 'string', multiple: true },
  responses: { type: 'string', multiple: true },
  out: { type: 'string' },
  concurrency: { type: 'string' },
  limit: { type: 'string' },
  resume: { type: 'boolean' },
  'cache-dir': { type: 'string' },
  'max-new-tokens': { type: 'string' },
  temperature: { type: 'string' },
  'top-p': { type: 'string' },
  seed: { type: 'string' },
  'judge-temperature': { type: 'string' },
  'judge-max-new-tokens': { type: 'string' },
  'judge-attempts': { type: 'string' },
  tokenizer: { type: 'string' },
  'api-key-env': { type: 'string' },
  prompt: { type: 'string' },
  weakest: { type: 'string' },
  order: { type: 'string' },
  preferences: { type: 'string' },
  'lc-fit': { type: 'string' },
  'lc-difficulty': { type: 'string' },
  'lc-gamed': { type: 'string' },
  attacks: { type: 'string', multiple: true },
  defenses: { type: 'string', multiple: true },
  classifier: { type: 'string' },
  'guard-format': { type: 'string' },
  'filter-judge': { type: 'string' },
  base: { type: 'string' },
  aligned: { type: 'string' },
  alpha: { type: 'string' },
  'ed-family': { type: 'string' },
  'samples-per-prompt': { type: 'string' },
  'short-responses': { type: 'string' },
  'guard-unparsed': { type: 'string' },
  help: { type: 'boolean' },
};

/** The flags that define what a run computes; a --resume with different values is refused. */
const IDENTITY_FLAGS = [
  'model',
  'judge',
  'data',
  'responses',
  'limit',
  'prompt',
  'order',
  'preferences',
  'attacks',
  'defenses',
  'classifier',
  'guard-format',
  'filter-judge',
  'base',
  'aligned',
  'alpha',
  'ed-family',
  'samples-per-prompt',
  'short-responses',
  'guard-unparsed',
  'max-new-tokens',
  'temperature',
  'top-p',
  'seed',
  'judge-temperature',
  'judge-max-new-tokens',
];

function oneOf<T extends string>(values: Record<string, any>, flag: string, allowed: readonly T[], fallback: T): T {
  const v = values[flag] ?? fallback;
  if (!allowed.includes(v)) throw inputError(`--${flag} expects one of ${allowed.join(', ')}, got "${v}"`);
  return v;
}

/** A comma list in which an empty entry ("a,,b", a trailing comma) is an error, not dropped. */
function namesFlag(values: Record<string, any>, flag: string): string[] {
  const given: string[] = values[flag] === undefined ? [] : [values[flag]].flat().map(String);
  const names = given.flatMap((s) => s.split(',')).map((s) => s.trim());
  if (names.some((name) => !name))
    throw inputError(`--${flag} has an empty entry in "${given.join(',')}" (expected names separated by commas)`, {
      field: `--${flag}`,
    });
  return names;
}

function positive(values: Record<string, any>, flag: string, fallback?: number): number | undefined {
  const n = intFlag(values, flag, fallback);
  if (n !== undefined && n < 1) throw inputError(`--${flag} expects a positive integer, got "${values[flag]}"`);
  return n;
}

/** Renders progress: a bar on a terminal, a plain line every 10 % (or 30 s) otherwise. */
function progressRenderer(label: string): { onProgress: (p: EvalProgress) => void; stop: () => void } {
  if (process.stderr.isTTY) {
    const bar = new cliProgress.SingleBar(
      {
        format: `${label} [{bar}] {value}/{total} | {percentage}% | ETA {eta_formatted} | judge failures {failures}`,
        stream: process.stderr,
        hideCursor: true,
      },
      cliProgress.Presets.shades_classic,
    );
    let started = false;
    return {
      onProgress: (p) => {
        if (!started) {
          bar.start(p.total, p.done, { failures: p.failures });
          started = true;
        } else bar.update(p.done, { failures: p.failures });
      },
      stop: () => {
        if (started) bar.stop();
      },
    };
  }
  let lastStep = -1;
  let lastTime = 0;
  const startTime = Date.now();
  let startDone: number | undefined;
  return {
    onProgress: (p) => {
      startDone ??= p.done;
      const step = p.total ? Math.floor((10 * p.done) / p.total) : 10;
      const now = Date.now();
      if (step === lastStep && now - lastTime < 30_000 && p.done !== p.total) return;
      lastStep = step;
      lastTime = now;
      const rate = (p.done - startDone) / Math.max(1e-3, (now - startTime) / 1000);
      console.error(
        `${label}: ${p.done}/${p.total} (${p.total ? Math.round((100 * p.done) / p.total) : 100}%)${p.done > startDone ? `, ${rate.toFixed(2)}/s` : ''}, judge failures ${p.failures}`,
      );
    },
    stop: () => undefined,
  };
}

export async function run(argv: string[]): Promise<number> {
  const [benchmark, ...rest] = argv;
  if (!benchmark || benchmark === '--help' || benchmark === '-h') {
    console.log(USAGE);
    return benchmark ? 0 : 1;
  }
  if (!(BENCHMARKS as readonly string[]).includes(benchmark))
    throw inputError(`unknown benchmark "${benchmark}" (expected one of: ${BENCHMARKS.join(', ')})\n${USAGE}`);
  const { values } = parseFlags(rest, FLAGS);
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const bench = benchmark as Benchmark;
  const out = requireFlag(values, 'out');
  const resume = !!values.resume;
  if (!resume && existsSync(join(out, RESPONSES_FILE)))
    throw inputError(`${out} already holds a run; pass --resume to continue it or choose another --out`, {
      field: '--out',
    });
  const runDir = RunDir.create(out, { resume });
  const previous = resume ? runDir.readConfig() : undefined;
  if (previous?.flags) {
    const before = previous.flags as Record<string, unknown>;
    for (const flag of IDENTITY_FLAGS) {
      if (JSON.stringify(before[flag] ?? null) !== JSON.stringify(values[flag] ?? null))
        throw inputError(
          `--resume with a different --${flag} than the run in ${out} (${JSON.stringify(before[flag] ?? null)}); start a new --out instead`,
          { field: `--${flag}` },
        );
    }
    if (previous.benchmark !== bench)
      throw inputError(`${out} holds an eval ${previous.benchmark} run, not ${bench}`, { field: '--out' });
  }

  const concurrency = positive(values, 'concurrency', 4)!;
  const limit = positive(values, 'limit');
  const dataPaths = listFlag(values, 'data');
  const responsePaths = listFlag(values, 'responses');
  const loaded: LanguageModel[] = [];
  const modelCache = new Map<string, Promise<LanguageModel>>();
  const load = (ref: string, local = true) => {
    const key = `${ref}\u0000${local}`;
    if (!modelCache.has(key)) {
      const p = loadModel(ref, {
        tokenizer: local ? values.tokenizer : undefined,
        apiKeyEnv: values['api-key-env'],
        concurrency,
      });
      p.then(
        (m) => loaded.push(m),
        () => undefined,
      );
      modelCache.set(key, p);
    }
    return modelCache.get(key)!;
  };
  const generation = (defaults: GenerationSettings): GenerationSettings => ({
    maxNewTokens: positive(values, 'max-new-tokens', defaults.maxNewTokens)!,
    temperature: numberFlag(values, 'temperature', defaults.temperature),
    topP: numberFlag(values, 'top-p', defaults.topP),
    seed: intFlag(values, 'seed', defaults.seed),
  });
  const cache = new JudgeCache(values['cache-dir'] ?? join(out, 'judge-cache'));
  const makeJudge = async (ref: string) =>
    new Judge(
      await load(ref, false),
      {
        temperature: numberFlag(values, 'judge-temperature', defaultJudgeSettings.temperature),
        maxNewTokens: positive(values, 'judge-max-new-tokens', defaultJudgeSettings.maxNewTokens),
        maxAttempts: positive(values, 'judge-attempts', defaultJudgeSettings.maxAttempts),
      },
      cache,
    );
  const needData = (what: string) => {
    if (!dataPaths.length) throw inputError(`eval ${bench} needs --data (${what})`, { field: '--data' });
    return dataPaths;
  };
  const needModelOrResponses = () => {
    if (!values.model && !responsePaths.length)
      throw inputError(
        `eval ${bench} needs --model REF (to generate responses) or --responses FILE (to score existing ones)`,
      );
    if (responsePaths.length > 1 && bench !== 'conceptmath')
      throw inputError('--responses takes one file for this benchmark', { field: '--responses' });
  };

  runDir.writeConfig({
    command: `eval ${bench}`,
    benchmark: bench,
    flags: Object.fromEntries(Object.entries(values).filter(([, v]) => v !== undefined)),
    judgeCache: cache.dir,
  });
  const progress = progressRenderer(`eval ${bench}`);
  let summary: Summary;
  try {
    switch (bench) {
      case 'mt-bench-101': {
        needModelOrResponses();
        const all = loadMtBench101(needData('mtbench101.jsonl')[0]);
        const dialogues = limit ? firstPerTask(all, limit) : all;
        if (responsePaths.length && !values.judge)
          throw inputError('eval mt-bench-101 needs --judge REF to score --responses');
        const responses = responsePaths.length ? loadMtBenchResponses(responsePaths[0]) : undefined;
        ({ summary } = await runMtBench101({
          dialogues,
          runDir,
          responses,
          concurrency,
          onProgress: progress.onProgress,
          model: responses ? undefined : await load(values.model),
          generation: generation(defaultMtBenchGeneration),
          judge: values.judge ? await makeJudge(values.judge) : undefined,
        }));
        break;
      }
      case 'conceptmath': {
        let items: ConceptMathItem[];
        let responses;
        if (responsePaths.length) {
          ({ items, responses } = loadConceptMathResponses(responsePaths));
        } else {
          needModelOrResponses();
          items = loadConceptMath(needData('ConceptMath JSONL files'));
        }
        if (limit) {
          const seen = new Map<string, number>();
          items = items.filter((i) => {
            const n = (seen.get(i.grade) ?? 0) + 1;
            seen.set(i.grade, n);
            return n <= limit;
          });
        }
        ({ summary } = await runConceptMath({
          items,
          runDir,
          responses,
          concurrency,
          onProgress: progress.onProgress,
          model: responses ? undefined : await load(values.model),
          generation: generation(defaultConceptMathGeneration),
          promptStyle: oneOf<PromptStyle>(values, 'prompt', PROMPT_STYLES, 'zs'),
          weakest: positive(values, 'weakest', 10),
        }));
        break;
      }
      case 'winrate': {
        const lc = {
          fit: oneOf<LcFit>(values, 'lc-fit', LC_FITS, 'official'),
          extras: loadLcExtras({ difficultyFile: values['lc-difficulty'], gamedFile: values['lc-gamed'] }),
        };
        if (values.preferences) {
          const extra = ['model', 'judge', 'responses', 'data'].find((f) => values[f] !== undefined);
          if (extra)
            throw inputError(`--preferences holds judged comparisons already; it takes no --${extra}`, {
              field: `--${extra}`,
            });
          ({ summary } = winrateFromPreferences({
            preferences: loadPreferences(values.preferences),
            source: values.preferences,
            runDir,
            lc,
            limit,
          }));
          break;
        }
        needModelOrResponses();
        const examples = loadBaselineOutputs(needData('baseline outputs')[0]).slice(0, limit);
        if (responsePaths.length && !values.judge)
          throw inputError('eval winrate needs --judge REF to score --responses');
        const responses = responsePaths.length ? loadModelOutputs(responsePaths[0]) : undefined;
        ({ summary } = await runWinrate({
          examples,
          runDir,
          responses,
          concurrency,
          onProgress: progress.onProgress,
          model: responses ? undefined : await load(values.model),
          generation: generation(defaultWinrateGeneration),
          judge: values.judge ? await makeJudge(values.judge) : undefined,
          order: oneOf<PairOrder>(values, 'order', ['random', 'both'], 'random'),
          lc,
        }));
        break;
      }
      case 'safety': {
        const classifierKind = oneOf(values, 'classifier', ['guard', 'refusal'], values.judge ? 'guard' : 'refusal');
        const guardFormat = oneOf<GuardFormat>(values, 'guard-format', ['prompt', 'native'], 'prompt');
        const guardUnparsed = oneOf<GuardUnparsed>(values, 'guard-unparsed', GUARD_UNPARSED, 'flagged');
        const shortResponses = oneOf<ShortResponseRule>(values, 'short-responses', SHORT_RESPONSE_RULES, 'resample');
        if (classifierKind === 'guard' && !values.judge)
          throw inputError('--classifier guard needs --judge REF', { field: '--classifier' });
        const classifier: SafetyClassifier =
          classifierKind === 'guard'
            ? new GuardClassifier(await makeJudge(values.judge), guardFormat, guardUnparsed)
            : new RefusalClassifier();
        if (responsePaths.length) {
          if (responsePaths.length > 1)
            throw inputError('--responses takes one file for this benchmark', { field: '--responses' });
          const given = loadSafetyResponses(responsePaths[0]);
          ({ summary } = await runSafety({
            ...given,
            items: given.items.slice(0, limit),
            runDir,
            classifier,
            shortResponses,
            // counts the tokens of the given responses for the 8-token rule (without it: empty ones only)
            tokenizer: values.tokenizer ? loadTokenizer(values.tokenizer) : undefined,
            concurrency,
            onProgress: progress.onProgress,
          }));
          break;
        }
        const attackNames = namesFlag(values, 'attacks');
        const defenseNames = namesFlag(values, 'defenses');
        const isEd = (a: string) => a === 'emulated-disalignment' || a === 'ed';
        const needsTarget = (attackNames.length ? attackNames : ['none']).some((a) => !isEd(a));
        if (needsTarget && !values.model)
          throw inputError('eval safety needs --model REF (the target model) or --responses FILE');
        // without --base (or an aligned model), resolveAttacks says what emulated disalignment needs
        const edModels = attackNames.some(isEd) && values.base && (values.aligned ?? values.model);
        const ed = edModels
          ? {
              base: await load(values.base),
              aligned: await load(values.aligned ?? values.model),
              alpha: numberFlag(values, 'alpha'),
              family: values['ed-family'],
            }
          : undefined;
        const attacks = resolveAttacks(attackNames.length ? attackNames : ['none'], ed);
        const defenses = (defenseNames.length ? defenseNames : ['none']).map(resolveDefense);
        const filterRef = values['filter-judge'] ?? values.judge;
        const needsFilter = defenses.some((d) => d.inputFilter || d.outputFilter);
        if (needsFilter && !filterRef)
          throw inputError(
            'the input-filter and output-filter defenses need a guard judge: --filter-judge REF or --judge REF',
            { field: '--defenses' },
          );
        const prompts = needData('prompt set').flatMap((p) => loadSafetyPrompts(p, { limit }));
        ({ summary } = await runSafety({
          items: safetyGrid(prompts, attacks, defenses, positive(values, 'samples-per-prompt', 1)),
          attacks,
          defenses,
          runDir,
          classifier,
          shortResponses,
          concurrency,
          onProgress: progress.onProgress,
          model: needsTarget ? await load(values.model) : undefined,
          generation: generation(defaultSafetyGeneration),
          filter: needsFilter ? new GuardClassifier(await makeJudge(filterRef), guardFormat, guardUnparsed) : undefined,
        }));
        break;
      }
    }
  } finally {
    progress.stop();
    for (const m of loaded) await m.dispose();
  }
  finishRun(runDir, summary, 'summary.json');
  return 0;
}
