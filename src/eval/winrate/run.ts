import { createHash } from 'node:crypto';
import type { LanguageModel } from '../../lm/language-model.ts';
import type { RunDir } from '../../report/run-dir.ts';
import type { Summary } from '../../report/summary.ts';
import { itemSeed, sampleChat, type GenerationSettings } from '../chat.ts';
import type { Judge, JudgeFailure } from '../judge.ts';
import { runStaged, type ProgressCallback, type ResponseRecord } from '../staged-run.ts';
import { failuresTable, round } from '../summary-parts.ts';
import type { WinrateExample } from './data.ts';
import { lengthControlledWinRate, rawWinRate, type LengthControlledResult, type RawWinRate } from './glm.ts';
import { pairwiseMessages, parseVerdict } from './prompts.ts';

/**
 * `random`: one judgement per instruction with a pseudo-random (but reproducible) order, as
 * AlpacaEval does; `both`: judge both orders and average, which cancels position bias at twice
 * the cost.
 */
export type PairOrder = 'random' | 'both';

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
  /** L2 penalty of the GLM fit */
  l2?: number;
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
  modelLength: number;
  baselineLength: number;
  difficulty?: number;
  verdicts: Verdict[];
}

export interface WinrateRun {
  summary: Summary;
  raw?: RawWinRate;
  lc?: LengthControlledResult;
  failures: JudgeFailure[];
}

export const defaultWinrateGeneration: GenerationSettings = { maxNewTokens: 1024, temperature: 0 };

const modelFirstFor = (key: string) => (createHash('sha256').update(`order:${key}`).digest()[0] & 1) === 1;

export async function runWinrate(options: WinrateRunOptions): Promise<WinrateRun> {
  const { model, judge } = options;
  const generation = options.generation ?? defaultWinrateGeneration;
  const order = options.order ?? 'random';
  const { results, missing } = await runStaged<WinrateExample, WinrateResult>({
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
            modelLength: r.response.length,
            baselineLength: e.baseline.length,
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
  const scored = results.filter((r) => r.p !== null);
  const raw = scored.length ? rawWinRate(scored.map((r) => r.p!)) : undefined;
  const lc = scored.length
    ? lengthControlledWinRate(
        scored.map((r) => ({
          p: r.p!,
          modelLength: r.modelLength,
          baselineLength: r.baselineLength,
          difficulty: r.difficulty,
        })),
        { l2: options.l2 },
      )
    : undefined;
  const baselineName = options.examples.find((e) => e.baselineGenerator)?.baselineGenerator ?? 'baseline';
  const avg = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null);
  const avgModel = avg(scored.map((r) => r.modelLength));
  const avgBaseline = avg(scored.map((r) => r.baselineLength));
  const notes = [
    lc?.usedDifficulty
      ? 'LC GLM: θ·tanh(Δlen/std) + φ + γ·instruction difficulty (from the data file).'
      : 'LC GLM: θ·tanh(Δlen/std) + φ — the instruction-difficulty term is omitted (no difficulty values in the data file).',
    "Fitted on this model's comparisons only, by Newton's method with a small L2 penalty; AlpacaEval's gamed-baseline rows and L1 cross-validation are not reproduced, so LC values are close to, not identical with, the leaderboard's.",
    `Judge order: ${order === 'both' ? 'both orders, averaged' : 'one pseudo-random order per instruction'}; lengths in characters.`,
  ];
  if (raw && lc) {
    const room = lc.lcWinRate > raw.winRate ? 100 - raw.winRate : raw.winRate;
    if (Math.abs(lc.lcWinRate - raw.winRate) > Math.max(10, room / 4))
      notes.push(
        'Warning: LC differs from the raw win rate by more than max(10, ¼ of the remaining room) — the GLM fit may be unreliable.',
      );
  }
  return {
    raw,
    lc,
    failures,
    summary: {
      kind: 'eval winrate',
      title: `Length-controlled win rate — ${name} vs ${baselineName} (judge ${judge.id})`,
      metrics: {
        lc_win_rate: round(lc?.lcWinRate),
        win_rate: round(raw?.winRate),
        standard_error: round(raw?.standardError),
        n: scored.length,
        judge_failures: failures.length,
        missing_responses: missing.length,
        avg_length_model: round(avgModel, 1),
        avg_length_baseline: round(avgBaseline, 1),
        judge: judge.id,
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
              scored.length,
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
          columns: ['length θ', 'intercept φ', 'difficulty γ', 'std(Δlen)', 'converged'],
          rows: lc
            ? [
                [
                  round(lc.lengthCoef, 4),
                  round(lc.intercept, 4),
                  round(lc.difficultyCoef, 4),
                  round(lc.lengthStd, 1),
                  String(lc.converged),
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
              points: [
                ['LC win rate', round(lc?.lcWinRate) ?? 0],
                ['win rate', round(raw?.winRate) ?? 0],
              ],
            },
          ],
        },
      ],
      failures,
    },
  };
}
