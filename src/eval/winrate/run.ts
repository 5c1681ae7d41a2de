import { createHash } from 'node:crypto';
import type { LanguageModel } from '../../lm/language-model.ts';
import type { RunDir } from '../../run/run-dir.ts';
import type { Summary } from '../../run/summary.ts';
import { writeFileAtomic } from '../../util/atomic-write.ts';
import { itemSeed, sampleChat, type GenerationSettings } from '../chat.ts';
import type { Judge, JudgeFailure } from '../judge.ts';
import { runStaged, type ProgressCallback, type ResponseRecord } from '../staged-run.ts';
import { finiteOrNull } from '../../util/finite.ts';
import { failuresTable, round, withGenerationFailures } from '../summary-parts.ts';
import { codePointLength, type WinrateExample } from './data.ts';
import { rawWinRate, type RawWinRate } from './glm.ts';
import { difficultyAt, type LcExtras } from './lc-inputs.ts';
import { lengthControlled, type LcFit, type LcOutcome } from './length-controlled.ts';
import type { Comparison } from './official-lc.ts';
import type { PreferenceFile } from './preferences.ts';
import { pairwiseMessages, parseVerdict } from './prompts.ts';

/**
 * `random`: one judgement per instruction with a pseudo-random (but reproducible) order, as
 * AlpacaEval does; `both`: judge both orders and average, which cancels position bias at twice
 * the cost.
 */
export type PairOrder = 'random' | 'both';

/** How the length-controlled win rate is fitted (both kinds of run). */
export interface LcSettings {
  /** default `official` */
  fit?: LcFit;
  /** instruction difficulty / gamed-baseline rows from the user's files */
  extras?: LcExtras;
  /** L2 penalty of the `mle` fit */
  l2?: number;
}

export interface WinrateRunOptions {
  examples: readonly WinrateExample[];
  runDir: RunDir;
  model?: LanguageModel;
  generation?: GenerationSettings;
  judge?: Judge;
  /** model outputs given by the user, keyed like the examples */
  responses?: ReadonlyMap<string, ResponseRecord>;
  order?: PairOrder;
  concurrency: number;
  lc?: LcSettings;
  modelName?: string;
  onProgress?: ProgressCallback;
}

export interface Verdict {
  modelFirst: boolean;
  winner?: 'model' | 'baseline';
  error?: string;
  raws?: string[];
}

export interface WinrateResult {
  instruction: string;
  /** P(model preferred); null when a judgement failed */
  p: number | null;
  /** output lengths in code points */
  modelLength: number;
  baselineLength: number;
  difficulty?: number;
  verdicts: Verdict[];
}

export interface WinrateRun {
  summary: Summary;
  raw?: RawWinRate;
  lc?: LcOutcome;
  failures: JudgeFailure[];
}

export const defaultWinrateGeneration: GenerationSettings = { maxNewTokens: 1024, temperature: 0 };

const modelFirstFor = (key: string) => (createHash('sha256').update(`order:${key}`).digest()[0] & 1) === 1;

export async function runWinrate(options: WinrateRunOptions): Promise<WinrateRun> {
  const { model, judge } = options;
  const generation = options.generation ?? defaultWinrateGeneration;
  const order = options.order ?? 'random';
  const extras = options.lc?.extras ?? {};
  // an instruction the difficulty file lacks is an error now, not after the judging
  for (const e of options.examples) difficultyAt(extras, e.index, e.difficulty);
  const { results, responses, missing, failed } = await runStaged<WinrateExample, WinrateResult>({
    runDir: options.runDir,
    items: options.examples,
    keyOf: (e) => e.key,
    given: options.responses,
    generate:
      model && !options.responses
        ? async (e) => ({
            key: e.key,
            instruction: e.instruction,
            response: await sampleChat(
              model,
              [{ role: 'user', content: e.instruction }],
              generation,
              itemSeed(generation.seed, e.key),
            ),
          })
        : undefined,
    score: judge
      ? async (e, r) => {
          const verdicts: Verdict[] = [];
          for (const modelFirst of order === 'both' ? [true, false] : [modelFirstFor(e.key)]) {
            const [a, b] = modelFirst ? [r.response, e.baseline] : [e.baseline, r.response];
            const j = await judge.judgeChat(pairwiseMessages(e.instruction, a, b), parseVerdict);
            verdicts.push(
              j.ok
                ? { modelFirst, winner: (j.value === 'a') === modelFirst ? 'model' : 'baseline' }
                : { modelFirst, error: j.error, raws: j.raws },
            );
            if (!j.ok) break; // the item has failed; the other order would not change that
          }
          const failed = verdicts.some((v) => v.error !== undefined);
          return {
            instruction: e.instruction,
            p: failed ? null : verdicts.filter((v) => v.winner === 'model').length / verdicts.length,
            modelLength: codePointLength(r.response),
            baselineLength: codePointLength(e.baseline),
            ...(e.difficulty !== undefined ? { difficulty: e.difficulty } : {}),
            verdicts,
          };
        }
      : undefined,
    isFailure: (r) => r.p === null,
    concurrency: options.concurrency,
    onProgress: options.onProgress,
  });
  const name = options.modelName ?? model?.id ?? 'model';
  if (!judge) {
    return {
      failures: [],
      summary: {
        kind: 'eval winrate',
        title: `Win-rate responses — ${name}`,
        metrics: { responses: options.examples.length - missing.length },
        tables: [],
        plots: [],
      },
    };
  }
  const failures: JudgeFailure[] = results
    .filter((r) => r.p === null)
    .map((r) => {
      const bad = r.verdicts.find((v) => v.error !== undefined)!;
      const snippet = r.instruction.length > 60 ? `${r.instruction.slice(0, 60)}…` : r.instruction;
      return { key: r.key, error: `${bad.error} (instruction "${snippet}")`, raws: bad.raws ?? [] };
    });
  // lengths from the texts themselves (results of a run resumed from an older version may hold UTF-16 lengths)
  const byKey = new Map(options.examples.map((e) => [e.key, e]));
  const comparisons = results.map((r): Comparison => {
    const example = byKey.get(r.key)!;
    const difficulty = difficultyAt(extras, example.index, example.difficulty);
    return {
      preference: r.p,
      modelLength: codePointLength(responses.get(r.key)!.response),
      baselineLength: codePointLength(example.baseline),
      ...(difficulty !== undefined ? { difficulty } : {}),
    };
  });
  const run = winrateSummary({
    comparisons,
    lc: options.lc,
    extras,
    failures,
    missing: missing.length,
    model: name,
    baseline: options.examples.find((e) => e.baselineGenerator)?.baselineGenerator ?? 'baseline',
    judge: judge.id,
    note: `Judge order: ${order === 'both' ? 'both orders, averaged' : 'one pseudo-random order per instruction'}.`,
  });
  return { ...run, summary: withGenerationFailures(run.summary, failed) };
}

export interface PreferencesRunOptions {
  preferences: PreferenceFile;
  /** the preferences file, named in the summary */
  source: string;
  runDir: RunDir;
  lc?: LcSettings;
  /** first N records */
  limit?: number;
}

/** Win rates of comparisons judged elsewhere (`--preferences FILE`): no model, no judge. */
export function winrateFromPreferences(options: PreferencesRunOptions): WinrateRun {
  const { preferences } = options;
  const extras = options.lc?.extras ?? {};
  const rows = preferences.rows.slice(0, options.limit);
  const comparisons = rows.map((row): Comparison => {
    const difficulty = difficultyAt(extras, row.index, row.difficulty);
    const { preference, modelLength, baselineLength } = row;
    return { preference, modelLength, baselineLength, ...(difficulty !== undefined ? { difficulty } : {}) };
  });
  // written whole (temp + rename): a run from a file has no partial state to resume
  writeFileAtomic(
    options.runDir.path('results.jsonl'),
    rows.map((row, i) => `${JSON.stringify({ ...row, ...comparisons[i] })}\n`).join(''),
  );
  return winrateSummary({
    comparisons,
    isBaseline: preferences.isBaseline,
    lc: options.lc,
    extras,
    failures: rows
      .filter((r) => r.preference === null)
      .map((r) => ({ key: r.key, error: `no preference (failed judgement) at record ${r.index}`, raws: [] })),
    missing: 0,
    model: preferences.model ?? 'model',
    baseline: preferences.baseline ?? 'baseline',
    note: `Preferences from ${options.source} (${preferences.format === 'alpaca_eval' ? "AlpacaEval's annotation format" : 'plain format'}).`,
  });
}

interface SummaryInput {
  /** every comparison, failed judgements included */
  comparisons: readonly Comparison[];
  isBaseline?: boolean;
  lc?: LcSettings;
  extras: LcExtras;
  failures: JudgeFailure[];
  missing: number;
  model: string;
  baseline: string;
  judge?: string;
  /** where the judgements come from */
  note: string;
}

/** Bar points and their error bars, leaving out rates that could not be computed. */
function barsWithErrors(bars: [string, number | null | undefined, number | null | undefined][]) {
  const drawn = bars.filter(([, value]) => finiteOrNull(value) !== null);
  return {
    points: drawn.map(([label, value]): [string, number] => [label, value!]),
    errors: drawn.map(([, , error]) => finiteOrNull(error)),
  };
}

function winrateSummary(input: SummaryInput): WinrateRun {
  const { model: name, baseline: baselineName, failures } = input;
  const judged = input.comparisons.filter((c) => c.preference !== null);
  const raw = judged.length ? rawWinRate(judged.map((c) => c.preference!)) : undefined;
  const lc = judged.length
    ? lengthControlled(
        {
          comparisons: input.comparisons,
          gamed: input.extras.gamed,
          isBaseline: input.isBaseline,
          difficultySource: input.extras.difficultySource,
        },
        input.lc?.fit ?? 'official',
        { l2: input.lc?.l2 },
      )
    : undefined;
  const avg = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null);
  const avgModel = avg(judged.map((c) => c.modelLength));
  const avgBaseline = avg(judged.map((c) => c.baselineLength));
  const notes = [lc?.note ?? 'No judged comparisons: no win rates.', input.note];
  if (raw && lc?.lcWinRate != null) {
    const room = lc.lcWinRate > raw.winRate ? 100 - raw.winRate : raw.winRate;
    if (Math.abs(lc.lcWinRate - raw.winRate) > Math.max(10, room / 4))
      notes.push(
        'Warning: LC differs from the raw win rate by more than max(10, ¼ of the remaining room) — the GLM fit may be unreliable.',
      );
  }
  const lcName = lc ? (lc.variant ?? 'mle') : null;
  return {
    raw,
    lc,
    failures,
    summary: {
      kind: 'eval winrate',
      title: `Length-controlled win rate — ${name} vs ${baselineName}${input.judge ? ` (judge ${input.judge})` : ''}`,
      metrics: {
        lc_win_rate: finiteOrNull(lc?.lcWinRate),
        lc_standard_error: finiteOrNull(lc?.lcStandardError),
        lc_fit: lcName,
        win_rate: finiteOrNull(raw?.winRate),
        standard_error: finiteOrNull(raw?.standardError),
        n: judged.length,
        judge_failures: failures.length,
        missing_responses: input.missing,
        avg_length_model: finiteOrNull(avgModel),
        avg_length_baseline: finiteOrNull(avgBaseline),
        ...(input.judge ? { judge: input.judge } : {}),
        model: name,
      },
      tables: [
        {
          title: 'Win rate',
          columns: [
            'model',
            'baseline',
            'n',
            'LC win rate %',
            'win rate %',
            '± s.e.',
            'discrete win rate %',
            'wins',
            'losses',
            'draws',
            'avg length (model)',
            'avg length (baseline)',
          ],
          rows: [
            [
              name,
              baselineName,
              judged.length,
              round(lc?.lcWinRate),
              round(raw?.winRate),
              round(raw?.standardError),
              round(raw?.discreteWinRate),
              raw?.wins ?? 0,
              raw?.losses ?? 0,
              raw?.draws ?? 0,
              round(avgModel, 1),
              round(avgBaseline, 1),
            ],
          ],
          note: notes.join(' '),
        },
        {
          title: 'GLM coefficients',
          columns: ['fit', 'length θ', 'difficulty γ', 'φ (not gamed / intercept)', 'C', 'std(Δlen)', 'converged'],
          rows: lc?.coef
            ? [
                [
                  lcName,
                  round(lc.coef.length, 4),
                  round(lc.coef.difficulty, 4),
                  round(lc.coef.phi, 4),
                  lc.C === null ? null : Number(lc.C.toPrecision(3)),
                  round(lc.lengthStd, 1),
                  lc.converged === null ? null : String(lc.converged),
                ],
              ]
            : [],
        },
        failuresTable(failures),
      ],
      plots: [
        {
          type: 'bar',
          title: 'Win rate vs baseline',
          yLabel: '%',
          series: [
            {
              name,
              // a rate that could not be computed gets no bar (not a bar at 0); ± its standard error
              ...barsWithErrors([
                ['LC win rate', lc?.lcWinRate, lc?.lcStandardError],
                ['win rate', raw?.winRate, raw?.standardError],
              ]),
            },
          ],
        },
      ],
      failures,
    },
  };
}
