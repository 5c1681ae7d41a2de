import { extname } from 'node:path';
import { readFileSync } from 'node:fs';
import cliProgress from 'cli-progress';
import { parseFlags, requireFlag, numberFlag, intFlag, listFlag } from './args.ts';
import { finishRun } from './run-output.ts';
import { AlignkitError, inputError } from '../errors.ts';
import type { FinishReason, LanguageModel } from '../lm/language-model.ts';
import { loadModel } from '../lm/load.ts';
import { RunDir } from '../report/run-dir.ts';
import type { Plot, Summary, Table } from '../report/summary.ts';
import { readJsonl } from '../util/jsonl.ts';
import {
  STEER_METHODS,
  isSteerMethod,
  runSteerMethod,
  type SteerMethod,
  type SteerModels,
  type SteerSettings,
} from '../decode/steer-method.ts';
import { SENTIMENT_LEXICONS, type SentimentLexicon, rewardModelScorer, sentimentReward } from '../decode/rewards.ts';
import { requireScalarHead } from '../decode/scalar-head.ts';
import { scoreChecked, type Scorer } from '../decode/scorer.ts';
import { valueModelFromHead } from '../decode/value-model.ts';
import { ED_FAMILIES } from '../decode/emulated-disalignment.ts';
import type { UsageByRole } from '../decode/usage.ts';

const USAGE = `usage: alignkit steer <method> --large M [--tuned M --untuned M] [--value M] [--reward R] --prompts FILE --out DIR [flags]

Inference-time alignment of --large without training it. Methods:
  sample   plain sampling from --large (the baseline)
  bon      Best-of-N: N samples of --large, the best by the small pair's log-ratio (or --bon-scorer reward)
  eft      emulated fine-tuning / proxy tuning: large + β·(tuned − untuned), token level, one vocabulary
  ed       emulated disalignment: (1+α)·base − α·aligned, token level (--base default --large, --aligned default --tuned)
  w2s      weak-to-strong search: chunk-level beam search ranked by log π_tuned − log π_untuned (any tokenizer)
  ivg      integrated value guidance: EFT-mixture chunks ranked by a value model (--value)
Several methods: --compare sample,bon,eft,w2s,ivg (each prompt runs every method with the same seed).

  --large M, --tuned M, --untuned M, --base M, --aligned M, --value M
                         model references: a local path, or BASE_URL#MODEL for an OpenAI-compatible server
  --tokenizer PATH       tokenizer of local checkpoints (default: found beside each model)
  --reward R             gold reward of every response: vader | afinn (sentiment lexicons) | a reward model REF
  --prompts FILE         JSONL with a "prompt" field per line, or .txt with one prompt per line
  --limit N              the first N prompts
  --out DIR              run folder: config.json, results.jsonl (streamed), summary.json, report.html
  --resume               continue the run in --out without repeating finished prompts
  --w W, --k K, --l L    beams, successors per beam, chunk length in large-model tokens ("inf" = whole
                         responses) for w2s and ivg (default 4, 4, 5)
  --n N                  Best-of-N samples (default W·K, the search's sample count)
  --bon-scorer S         log-ratio (default) | reward (ranks by --reward: an oracle upper bound)
  --beta B               EFT / IVG token-level weight (default 1)
  --alpha A, --ed-family F   ED strength and family defaults (${Object.keys(ED_FAMILIES).join(', ')})
  --temperature T        (default 0.7)   --top-k K (default 50, 0 = off)   --top-p P (default 1)
  --max-new-tokens N     (default 50)    --seed S (default 1; prompt i uses S+i)   --stop S (repeatable)
  --large-template T, --small-template T (tuned and untuned), --tuned-template T, --untuned-template T,
  --base-template T, --aligned-template T, --reward-template T, --value-template T
                         how each model sees the prompt: a text with "{prompt}", or "chat" (default: the raw prompt)
  --scoring cached|rescore   w2s small-model and ivg value-model scoring (default cached: KV caches kept across chunks)`;

const FLAGS = {
  large: { type: 'string' },
  tuned: { type: 'string' },
  untuned: { type: 'string' },
  base: { type: 'string' },
  aligned: { type: 'string' },
  value: { type: 'string' },
  reward: { type: 'string' },
  tokenizer: { type: 'string' },
  'api-key-env': { type: 'string' },
  prompts: { type: 'string' },
  limit: { type: 'string' },
  out: { type: 'string' },
  resume: { type: 'boolean' },
  compare: { type: 'string', multiple: true },
  w: { type: 'string' },
  k: { type: 'string' },
  l: { type: 'string' },
  n: { type: 'string' },
  'bon-scorer': { type: 'string' },
  beta: { type: 'string' },
  alpha: { type: 'string' },
  'ed-family': { type: 'string' },
  temperature: { type: 'string' },
  'top-k': { type: 'string' },
  'top-p': { type: 'string' },
  'max-new-tokens': { type: 'string' },
  seed: { type: 'string' },
  stop: { type: 'string', multiple: true },
  'large-template': { type: 'string' },
  'small-template': { type: 'string' },
  'tuned-template': { type: 'string' },
  'untuned-template': { type: 'string' },
  'base-template': { type: 'string' },
  'aligned-template': { type: 'string' },
  'reward-template': { type: 'string' },
  'value-template': { type: 'string' },
  scoring: { type: 'string' },
  help: { type: 'boolean' },
} as const;

/** Flags that do not change what a run computes (a --resume may differ in these). */
const NON_IDENTITY_FLAGS = new Set(['out', 'resume', 'limit', 'debug', 'config', 'help', 'api-key-env']);

/** One line of results.jsonl: one method on one prompt. */
export interface SteerRecord {
  key: string;
  index: number;
  method: SteerMethod;
  prompt: string;
  text: string;
  finishReason: FinishReason;
  /** the method's own ranking score (log-ratio, value, reward), null for methods that rank nothing */
  score: number | null;
  /** the gold reward (--reward), null without one */
  gold: number | null;
  /** tokens processed by each model for this response */
  usage: UsageByRole;
  processedTokens: number;
  seconds: number;
  rounds: number | null;
  seed: number;
}

export function readPrompts(file: string): { prompt: string; line: number }[] {
  const ext = extname(file.replace(/\.gz$/, '')).toLowerCase();
  if (ext === '.jsonl' || ext === '.json') {
    return readJsonl<Record<string, unknown>>(file).map(({ value, line }) => {
      const prompt = value?.prompt;
      if (typeof prompt !== 'string')
        throw inputError('expected a string "prompt" field', { file, line, field: 'prompt' });
      return { prompt, line };
    });
  }
  if (ext === '.txt') {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      throw inputError('file not found', { file });
    }
    return text
      .split('\n')
      .map((prompt, i) => ({ prompt, line: i + 1 }))
      .filter((p) => p.prompt.trim() !== '');
  }
  throw inputError('prompts must be .jsonl (a "prompt" field per line) or .txt (one prompt per line)', { file });
}

function methodsOf(positional: string | undefined, compare: string[]): SteerMethod[] {
  const names = [...new Set([...(positional && positional !== 'compare' ? [positional] : []), ...compare])];
  if (names.length === 0) throw inputError(`name a method (${STEER_METHODS.join(', ')}) or pass --compare`);
  for (const m of names)
    if (!isSteerMethod(m)) throw inputError(`unknown method "${m}" (expected one of ${STEER_METHODS.join(', ')})`);
  return names as SteerMethod[];
}

function chunkLengthFlag(values: Record<string, any>): number | undefined {
  const v = values.l;
  if (v === undefined) return undefined;
  if (/^(inf|infinity|∞)$/i.test(String(v))) return Infinity;
  return intFlag(values, 'l');
}

function oneOf<T extends string>(values: Record<string, any>, flag: string, allowed: readonly T[], fallback: T): T {
  const v = values[flag] ?? fallback;
  if (!allowed.includes(v)) throw inputError(`--${flag} expects one of ${allowed.join(', ')}, got "${v}"`);
  return v;
}

/** Which model flags each method needs, checked before anything is loaded. */
function checkModelFlags(methods: SteerMethod[], values: Record<string, any>, bonScorer: string): void {
  const need = (flag: string, method: string, why = '') => {
    if (!values[flag]) throw inputError(`method ${method} needs --${flag}${why}`);
  };
  for (const m of methods) {
    if (m !== 'ed') need('large', m);
    if (m === 'eft' || m === 'w2s' || (m === 'bon' && bonScorer === 'log-ratio')) {
      need('tuned', m);
      need('untuned', m);
    }
    if (m === 'bon' && bonScorer === 'reward') need('reward', m, ' (--bon-scorer reward)');
    if (m === 'ivg') need('value', m, ' (a value model trained by `alignkit train value`)');
    if (m === 'ed') {
      if (!values.base && !values.large) need('base', m, ' (or --large)');
      if (!values.aligned && !values.tuned) need('aligned', m, ' (or --tuned)');
    }
  }
}

/** Renders progress over prompts: a bar on a terminal, a plain line every 10 % (or 30 s) otherwise. */
function progressRenderer(total: number): { update: (done: number, note: string) => void; stop: () => void } {
  if (process.stderr.isTTY) {
    const bar = new cliProgress.SingleBar(
      {
        format: 'steer [{bar}] {value}/{total} | ETA {eta_formatted} | {note}',
        stream: process.stderr,
        hideCursor: true,
      },
      cliProgress.Presets.shades_classic,
    );
    bar.start(total, 0, { note: '' });
    return { update: (done, note) => bar.update(done, { note }), stop: () => bar.stop() };
  }
  let lastStep = -1,
    lastTime = Date.now();
  return {
    update: (done, note) => {
      const step = Math.floor((10 * done) / Math.max(1, total));
      if (step === lastStep && Date.now() - lastTime < 30_000 && done !== total) return;
      lastStep = step;
      lastTime = Date.now();
      console.error(`steer: ${done}/${total} (${Math.round((100 * done) / Math.max(1, total))}%) ${note}`);
    },
    stop: () => undefined,
  };
}

const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null);
const sd = (xs: number[]) => {
  const m = mean(xs);
  return m === null || xs.length < 2 ? null : Math.sqrt(xs.reduce((a, x) => a + (x - m) ** 2, 0) / (xs.length - 1));
};
const round = (x: number | null, digits = 4) => (x === null ? null : Number(x.toFixed(digits)));

/** The run's summary: one row per method (gold reward, score, tokens per model, time) and reward-vs-compute plots. */
export function steerSummary(records: readonly SteerRecord[], goldName: string | null): Summary {
  const methods = STEER_METHODS.filter((m) => records.some((r) => r.method === m));
  const roles = [...new Set(records.flatMap((r) => Object.keys(r.usage)))];
  const by = (m: SteerMethod) => records.filter((r) => r.method === m);
  const golds = (m: SteerMethod) =>
    by(m)
      .map((r) => r.gold)
      .filter((g): g is number => g !== null);
  const tokens = (m: SteerMethod) => mean(by(m).map((r) => r.processedTokens));
  const table: Table = {
    title: 'Methods',
    columns: [
      'method',
      'prompts',
      `gold ${goldName ?? '(none)'} mean`,
      'gold sd',
      'score mean',
      'tokens processed / prompt',
      ...roles.map((r) => `tokens: ${r}`),
      'seconds / prompt',
    ],
    rows: methods.map((m) => [
      m,
      by(m).length,
      round(mean(golds(m))),
      round(sd(golds(m))),
      round(
        mean(
          by(m)
            .map((r) => r.score)
            .filter((s): s is number => s !== null),
        ),
      ),
      round(tokens(m), 1),
      ...roles.map((role) => round(mean(by(m).map((r) => r.usage[role]?.processedTokens ?? 0)), 1)),
      round(mean(by(m).map((r) => r.seconds)), 3),
    ]),
    note: "tokens processed: tokens run through each model's forward passes (prompt, sampled and scored), mean per prompt. Score: the method's own ranking (log-ratio for bon/w2s, value for ivg).",
  };
  const plots: Plot[] = [];
  if (goldName) {
    plots.push({
      type: 'scatter',
      title: 'Gold reward vs compute',
      xLabel: 'tokens processed per prompt (log)',
      yLabel: `gold reward (${goldName})`,
      xScale: 'log',
      series: methods.map((m) => ({
        name: m,
        points: [[tokens(m) ?? 0, mean(golds(m)) ?? NaN]] as [number, number][],
      })),
    });
    plots.push({
      type: 'bar',
      title: 'Mean gold reward by method',
      yLabel: `gold reward (${goldName})`,
      series: [{ name: 'gold', points: methods.map((m) => [m, mean(golds(m)) ?? NaN] as [string, number]) }],
    });
  }
  const metrics: Record<string, number | string | null> = {
    prompts: new Set(records.map((r) => r.index)).size,
    'gold reward': goldName,
  };
  for (const m of methods) metrics[`${m}: gold mean`] = round(mean(golds(m)));
  return { kind: 'steer', title: `Steering: ${methods.join(', ')}`, metrics, tables: [table], plots };
}

function formatOf(values: Record<string, any>, flag: string, fallback?: string): string | undefined {
  return values[`${flag}-template`] ?? fallback;
}

export async function run(argv: string[]): Promise<number> {
  if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h') {
    console.log(USAGE);
    return argv.length === 0 ? 1 : 0;
  }
  const { values, positionals } = parseFlags(argv, FLAGS, true);
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (positionals.length > 1)
    throw inputError(`one method name expected, got ${positionals.join(' ')} (use --compare a,b,c for several)`);
  const methods = methodsOf(positionals[0], listFlag(values, 'compare'));
  const promptsFile = requireFlag(values, 'prompts');
  const out = requireFlag(values, 'out');
  const bonScorerName = oneOf(values, 'bon-scorer', ['log-ratio', 'reward'] as const, 'log-ratio');
  checkModelFlags(methods, values, bonScorerName);
  const limit = intFlag(values, 'limit');
  const prompts = readPrompts(promptsFile).slice(0, limit ?? undefined);
  if (prompts.length === 0) throw inputError('no prompts', { file: promptsFile });

  const smallTemplate = values['small-template'];
  const settings: SteerSettings = {
    maxNewTokens: intFlag(values, 'max-new-tokens', 50),
    temperature: numberFlag(values, 'temperature', 0.7),
    topK: intFlag(values, 'top-k', 50),
    topP: numberFlag(values, 'top-p', 1),
    stop: values.stop,
    beams: intFlag(values, 'w'),
    successors: intFlag(values, 'k'),
    chunkLength: chunkLengthFlag(values),
    n: intFlag(values, 'n'),
    beta: numberFlag(values, 'beta'),
    alpha: numberFlag(values, 'alpha'),
    family: values['ed-family'],
    formats: {
      large: formatOf(values, 'large'),
      tuned: formatOf(values, 'tuned', smallTemplate),
      untuned: formatOf(values, 'untuned', smallTemplate),
      base: formatOf(values, 'base'),
      aligned: formatOf(values, 'aligned'),
    },
  };
  if (settings.maxNewTokens < 1) throw inputError('--max-new-tokens expects a positive integer');
  const scoring =
    values.scoring === undefined ? undefined : oneOf(values, 'scoring', ['cached', 'rescore'] as const, 'cached');
  const seed = intFlag(values, 'seed', 1);

  const runDir = RunDir.create(out, { resume: values.resume });
  const identity: Record<string, unknown> = {
    ...Object.fromEntries(Object.entries(values).filter(([k, v]) => v !== undefined && !NON_IDENTITY_FLAGS.has(k))),
    methods,
  };
  const previous = values.resume ? runDir.readConfig() : undefined;
  if (previous?.identity) {
    for (const key of new Set([...Object.keys(identity), ...Object.keys(previous.identity as object)])) {
      const was = JSON.stringify((previous.identity as Record<string, unknown>)[key]),
        now = JSON.stringify(identity[key]);
      if (was !== now)
        throw inputError(
          `--resume with a different ${key === 'methods' ? 'method list' : `--${key}`} (${was ?? 'unset'} before, ${now ?? 'unset'} now); use another --out`,
        );
    }
  }
  runDir.writeConfig({
    command: 'steer',
    methods,
    identity,
    settings: { ...settings, seed, scoring: scoring ?? 'cached', prompts: promptsFile, limit: limit ?? null },
  });

  const loaded = new Map<string, Promise<LanguageModel>>();
  // reward and value model directories (train rm / train value) load with their scalar head
  const load = (ref: string) => {
    if (!loaded.has(ref))
      loaded.set(ref, loadModel(ref, { tokenizer: values.tokenizer, apiKeyEnv: values['api-key-env'] }));
    return loaded.get(ref)!;
  };
  const progress = progressRenderer(prompts.length * methods.length);
  try {
    const ref = (flag: string) => (values[flag] ? load(values[flag]) : Promise.resolve(undefined));
    const [large, tuned, untuned, base, aligned, valueModel] = await Promise.all(
      ['large', 'tuned', 'untuned', 'base', 'aligned', 'value'].map(ref),
    );
    const models: SteerModels = {
      large: (large ?? base)!,
      tuned,
      untuned,
      base,
      aligned,
      value: valueModel
        ? valueModelFromHead(requireScalarHead(valueModel, 'value'), formatOf(values, 'value'))
        : undefined,
    };
    const gold = await goldScorer(values.reward, load, formatOf(values, 'reward'));
    if (bonScorerName === 'reward') settings.bonScorer = gold!;

    const done = new Set(runDir.finished<SteerRecord>().map((r) => r.key));
    const records: SteerRecord[] = runDir.finished<SteerRecord>();
    let count = records.length;
    for (let i = 0; i < prompts.length; i++) {
      for (const method of methods) {
        const key = `${i}:${method}`;
        if (done.has(key)) continue;
        const record = await steerOne(
          method,
          models,
          prompts[i],
          i,
          { ...settings, seed: seed + i },
          gold,
          scoring,
          promptsFile,
        );
        runDir.append(record);
        records.push(record);
        count++;
        const golds = records.filter((r) => r.method === method && r.gold !== null).map((r) => r.gold!);
        progress.update(count, golds.length ? `${method} gold ${mean(golds)!.toFixed(3)}` : method);
      }
    }
    progress.stop();
    const inRun = records.filter((r) => r.index < prompts.length && methods.includes(r.method));
    const summary = steerSummary(inRun, gold?.name ?? null);
    finishRun(runDir, summary);
    return 0;
  } finally {
    progress.stop();
    for (const m of loaded.values()) await (await m.catch(() => undefined))?.dispose();
  }
}

async function goldScorer(
  reward: string | undefined,
  load: (ref: string) => Promise<LanguageModel>,
  format: string | undefined,
): Promise<Scorer | undefined> {
  if (reward === undefined) return undefined;
  if (reward === 'sentiment') return sentimentReward();
  if ((SENTIMENT_LEXICONS as readonly string[]).includes(reward))
    return sentimentReward({ lexicon: reward as SentimentLexicon });
  return rewardModelScorer(requireScalarHead(await load(reward), 'reward'), format);
}

async function steerOne(
  method: SteerMethod,
  models: SteerModels,
  item: { prompt: string; line: number },
  index: number,
  settings: SteerSettings & { seed: number },
  gold: Scorer | undefined,
  scoring: 'cached' | 'rescore' | undefined,
  file: string,
): Promise<SteerRecord> {
  const started = Date.now();
  let result;
  try {
    result = await runSteerMethod(method, models, item.prompt, { ...settings, ...(scoring ? { scoring } : {}) });
  } catch (e) {
    if (e instanceof AlignkitError && e.kind === 'input' && !e.where.file)
      throw inputError(`prompt ${index + 1} (${method}): ${e.message}`, { file, line: item.line });
    throw e;
  }
  const seconds = (Date.now() - started) / 1000;
  const [goldValue] = gold
    ? await scoreChecked(gold, [{ prompt: item.prompt, response: result.text, finishReason: result.finishReason }])
    : [null];
  return {
    key: `${index}:${method}`,
    index,
    method,
    prompt: item.prompt,
    text: result.text,
    finishReason: result.finishReason,
    score: result.score,
    gold: goldValue,
    usage: result.usage,
    processedTokens: Object.values(result.usage).reduce((a, u) => a + u.processedTokens, 0),
    seconds,
    rounds: result.rounds ?? null,
    seed: settings.seed,
  };
}
