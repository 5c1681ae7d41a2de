/**
 * A steering run: every method on every prompt, one record per (prompt, method) streamed to
 * results.jsonl, the gold reward of each response, and the summary (reward against compute).
 * `alignkit steer` is this function; a killed run resumes without repeating finished records.
 */
import { AlignkitError, inputError } from '../errors.ts';
import type { FinishReason, LanguageModel } from '../lm/language-model.ts';
import { finishRun, type RunOutputs } from '../report/finish-run.ts';
import type { PoolOptions } from '../run/model-pool.ts';
import { RunSession, type RunTarget } from '../run/run-session.ts';
import type { Plot, Summary, Table } from '../run/summary.ts';
import type { PromptItem } from '../util/prompts-file.ts';
import type { PromptFormat } from '../lm/prompt-format.ts';
import { SENTIMENT_LEXICONS, type SentimentLexicon, rewardModelScorer, sentimentReward } from './rewards.ts';
import { requireScalarHead } from './scalar-head.ts';
import { scoreChecked, type Scorer } from './scorer.ts';
import {
  STEER_METHODS,
  STEER_ROLES,
  checkSteerRoles,
  steerMethodNamed,
  type MethodContext,
  type SteerMethod,
  type SteerModels,
  type SteerRole,
  type SteerSampling,
} from './steer-methods/index.ts';
import type { UsageByRole } from './usage.ts';
import { valueModelFromHead } from './value-model.ts';
import { finiteOrNull } from '../util/finite.ts';

export interface SteerRunOptions extends RunTarget {
  /** the methods each prompt runs (by name), in this order, with the same seed */
  methods: readonly string[];
  /** model references by role: a local path or BASE_URL#MODEL */
  models: Partial<Record<SteerRole, string>>;
  /** how the models load (tokenizer of local checkpoints, API key variable) */
  loading?: PoolOptions;
  prompts: readonly PromptItem[];
  /** the gold reward of every response: vader | afinn | sentiment | a reward model reference */
  reward?: string;
  /** how every response is sampled */
  sampling: Omit<SteerSampling, 'seed' | 'onProgress'>;
  /** the methods' settings by key (w2s's beams, eft's beta, ...), each validated by its method's spec */
  settings?: Readonly<Record<string, unknown>>;
  /** how each model sees the prompt: a text with "{prompt}", or "chat" (default: the raw prompt) */
  formats?: Partial<Record<SteerRole | 'reward', PromptFormat>>;
  /** prompt i uses seed + i (default 1) */
  seed?: number;
}

/** One line of results.jsonl: one method on one prompt. */
export interface SteerRecord {
  key: string;
  index: number;
  method: string;
  prompt: string;
  text: string;
  finishReason: FinishReason;
  /** the method's own ranking score (log-ratio, value, reward), null for methods that rank nothing */
  score: number | null;
  /** the gold reward, null without one */
  gold: number | null;
  /** tokens processed by each model for this response */
  usage: UsageByRole;
  processedTokens: number;
  seconds: number;
  rounds: number | null;
  seed: number;
}

export interface SteerRunResult extends RunOutputs {
  records: SteerRecord[];
}

/** `alignkit steer`: every method on every prompt, a record each (resumable), the gold reward, the summary and report. */
export async function steerRun(options: SteerRunOptions): Promise<SteerRunResult> {
  const { prompts } = options;
  if (options.methods.length === 0) throw inputError(`name a method (${STEER_METHODS.map((m) => m.name).join(', ')})`);
  if (prompts.length === 0) throw inputError('no prompts');
  const methods = options.methods.map(steerMethodNamed);
  const settings = options.settings ?? {};
  for (const method of methods) method.resolve(settings); // bad values fail before anything loads
  checkSteerRoles(methods, { ...options.models, reward: options.reward }, settings);
  const seed = options.seed ?? 1;
  const formats = options.formats ?? {};

  const session = RunSession.open({ ...options, command: 'steer', models: options.loading });
  try {
    const load = (role: SteerRole) => {
      const ref = options.models[role];
      return ref ? session.models.load(ref) : Promise.resolve(undefined);
    };
    const [large, tuned, untuned, base, aligned, value] = await Promise.all(STEER_ROLES.map(load));
    const models: SteerModels = {
      large: (large ?? base)!,
      tuned,
      untuned,
      base,
      aligned,
      // reward and value model directories (train rm / train value) load with their scalar head
      value: value ? valueModelFromHead(requireScalarHead(value, 'value'), formats.value) : undefined,
    };
    const context: MethodContext = {
      formats,
      gold: await goldScorer(options.reward, session.models.load, formats.reward),
    };
    session.start({
      methods: options.methods,
      models: options.models,
      sampling: options.sampling,
      settings: Object.fromEntries(methods.map((m) => [m.name, m.resolve(settings)])),
      formats,
      seed,
      reward: options.reward ?? null,
      prompts: prompts.length,
    });

    const records = session.folder.finished<SteerRecord>();
    const done = new Set(records.map((r) => r.key));
    for (let i = 0; i < prompts.length; i++) {
      for (const method of methods) {
        const key = `${i}:${method.name}`;
        if (done.has(key)) continue;
        const sampling = { ...options.sampling, seed: seed + i };
        const record = await steerOne(method, models, prompts[i], i, sampling, settings, context);
        session.folder.append(record);
        records.push(record);
        const golds = records.filter((r) => r.method === method.name && r.gold !== null).map((r) => r.gold!);
        session.progress({
          done: records.length,
          total: prompts.length * methods.length,
          note: golds.length ? `${method.name} gold ${mean(golds)!.toFixed(3)}` : method.name,
        });
      }
    }
    const names = new Set(options.methods);
    const inRun = records.filter((r) => r.index < prompts.length && names.has(r.method));
    return { ...finishRun(session.folder, steerSummary(inRun, context.gold?.name ?? null)), records: inRun };
  } finally {
    await session.close();
  }
}

async function goldScorer(
  reward: string | undefined,
  load: (ref: string) => Promise<LanguageModel>,
  format: PromptFormat | undefined,
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
  item: PromptItem,
  index: number,
  sampling: SteerSampling & { seed: number },
  settings: Readonly<Record<string, unknown>>,
  context: MethodContext,
): Promise<SteerRecord> {
  const started = Date.now();
  let result;
  try {
    result = await method.run(models, item.prompt, sampling, settings, context);
  } catch (e) {
    if (e instanceof AlignkitError && e.kind === 'input' && !e.where.file)
      throw inputError(`prompt ${index + 1} (${method.name}): ${e.message}`, { file: item.file, line: item.line });
    throw e;
  }
  const { gold } = context;
  const seconds = (Date.now() - started) / 1000;
  const [goldValue] = gold
    ? await scoreChecked(gold, [{ prompt: item.prompt, response: result.text, finishReason: result.finishReason }])
    : [null];
  return {
    key: `${index}:${method.name}`,
    index,
    method: method.name,
    prompt: item.prompt,
    text: result.text,
    finishReason: result.finishReason,
    score: result.score,
    gold: goldValue,
    usage: result.usage,
    processedTokens: Object.values(result.usage).reduce((a, u) => a + u.processedTokens, 0),
    seconds,
    rounds: result.rounds ?? null,
    seed: sampling.seed,
  };
}

const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null);
const sd = (xs: number[]) => {
  const m = mean(xs);
  return m === null || xs.length < 2 ? null : Math.sqrt(xs.reduce((a, x) => a + (x - m) ** 2, 0) / (xs.length - 1));
};
/** standard error of the mean */
const se = (xs: number[]) => {
  const s = sd(xs);
  return s === null ? null : s / Math.sqrt(xs.length);
};
const round = (x: number | null, digits = 4) => (x === null ? null : Number(x.toFixed(digits)));

/** The run's summary: one row per method (gold reward, score, tokens per model, time) and reward-vs-compute plots. */
export function steerSummary(records: readonly SteerRecord[], goldName: string | null): Summary {
  const methods = STEER_METHODS.map((m) => m.name).filter((m) => records.some((r) => r.method === m));
  const roles = [...new Set(records.flatMap((r) => Object.keys(r.usage)))];
  const by = (m: string) => records.filter((r) => r.method === m);
  const golds = (m: string) =>
    by(m)
      .map((r) => r.gold)
      .filter((g): g is number => g !== null);
  const tokens = (m: string) => mean(by(m).map((r) => r.processedTokens));
  const table: Table = {
    title: 'Methods',
    columns: [
      'method',
      'prompts',
      `gold ${goldName ?? '(none)'} mean`,
      '± s.e.',
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
      round(se(golds(m))),
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
        errors: [se(golds(m))],
      })),
    });
    plots.push({
      type: 'bar',
      title: 'Mean gold reward by method',
      yLabel: `gold reward (${goldName})`,
      note: 'error bars: ± one standard error of the mean over prompts',
      series: [
        {
          name: 'gold',
          points: methods.map((m) => [m, mean(golds(m)) ?? NaN] as [string, number]),
          errors: methods.map((m) => se(golds(m))),
        },
      ],
    });
  }
  const metrics: Record<string, number | string | null> = {
    prompts: new Set(records.map((r) => r.index)).size,
    'gold reward': goldName,
  };
  for (const m of methods) metrics[`${m}: gold mean`] = finiteOrNull(mean(golds(m)));
  return { kind: 'steer', title: `Steering: ${methods.join(', ')}`, metrics, tables: [table], plots };
}
