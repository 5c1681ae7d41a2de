/** The iLR-DPO run's Summary: reward and length of every iterate, the pairs that trained it. */
import type { Summary } from '../run/summary.ts';
import type { IterationRecord } from './ilr-dpo-loop.ts';
import { finiteOrNull } from '../util/finite.ts';

const round = (v: number | null | undefined, digits = 3) =>
  v === null || v === undefined || !Number.isFinite(v) ? null : Number(v.toFixed(digits));

export function ilrDpoSummary(
  records: readonly IterationRecord[],
  settings: { rewardName: string; lengthAlpha: number; beta: number },
): Summary {
  const rows = [...records].sort((a, b) => a.iteration - b.iteration);
  const first = rows[0],
    last = rows.at(-1);
  const name = settings.lengthAlpha > 0 ? `iLR-DPO (α = ${settings.lengthAlpha})` : 'iterative DPO (α = 0)';
  return {
    kind: 'train ilr-dpo',
    title: `${name}: ${settings.rewardName} over ${Math.max(0, rows.length - 1)} iterations`,
    metrics: {
      'reward, π_0': finiteOrNull(first?.reward),
      [`reward, π_${last?.iteration ?? 0}`]: finiteOrNull(last?.reward),
      'length, π_0 (tokens)': finiteOrNull(first?.length),
      [`length, π_${last?.iteration ?? 0} (tokens)`]: finiteOrNull(last?.length),
      'length change':
        first && last && first.length > 0
          ? `${((100 * (last.length - first.length)) / first.length).toFixed(1)}%`
          : null,
      β: settings.beta,
      α: settings.lengthAlpha,
    },
    tables: [
      {
        title: 'Iterations',
        columns: [
          'iteration',
          'mean reward',
          'mean length',
          'pairs',
          'skipped (identical / tied / too few)',
          'chosen length',
          'rejected length',
          'chosen reward',
          'rejected reward',
          'train loss',
          'train accuracy',
        ],
        rows: rows.map((r) => [
          r.iteration,
          round(r.reward),
          round(r.length, 1),
          r.selection?.pairs ?? null,
          r.selection
            ? `${r.selection.skipped.identical} / ${r.selection.skipped.tied} / ${r.selection.skipped['too-few']}`
            : null,
          round(r.selection?.meanChosenLength, 1),
          round(r.selection?.meanRejectedLength, 1),
          round(r.selection?.meanChosenReward),
          round(r.selection?.meanRejectedReward),
          round(r.trainMetrics?.loss),
          round(r.trainMetrics?.['rewards/accuracies']),
        ]),
        note: 'Reward and length are means over the evaluation samples of each iterate (the same prompts and seeds every iteration); length in policy tokens. Pairs are the best vs the worst sample of each prompt.',
      },
    ],
    plots: [
      {
        type: 'line',
        title: 'Reward by iteration',
        xLabel: 'iteration',
        yLabel: `mean ${settings.rewardName}`,
        series: [{ name, points: rows.map((r) => [r.iteration, r.reward]), mode: 'line+markers' }],
      },
      {
        type: 'line',
        title: 'Response length by iteration',
        xLabel: 'iteration',
        yLabel: 'mean length (tokens)',
        series: [
          { name: 'evaluation samples', points: rows.map((r) => [r.iteration, r.length]), mode: 'line+markers' },
          {
            name: 'chosen (training pairs)',
            points: rows
              .filter((r) => r.selection?.meanChosenLength != null)
              .map((r) => [r.iteration, r.selection!.meanChosenLength!]),
            mode: 'line+markers',
          },
          {
            name: 'rejected (training pairs)',
            points: rows
              .filter((r) => r.selection?.meanRejectedLength != null)
              .map((r) => [r.iteration, r.selection!.meanRejectedLength!]),
            mode: 'line+markers',
          },
        ],
      },
    ],
  };
}
