/**
 * The MODPO sweep's Summary: every member's score on every objective, which members are on the
 * Pareto front, the front as a scatter plot of the first two objectives (one series per member
 * so each point is named by its weights), each objective against w_k, and how consistently
 * each objective moves with w_k (Kendall's τ; an ordered front has τ = 1 for the trained
 * objective and −1 for the margin objective).
 */
import type { Plot, Series, Summary } from '../run/summary.ts';
import type { MemberRecord } from './modpo-sweep.ts';
import { paretoFront, weightOrder } from './pareto-front.ts';
import { finiteOrNull } from '../util/finite.ts';

const round = (v: number | null | undefined, digits = 4) =>
  v === null || v === undefined || !Number.isFinite(v) ? null : Number(v.toFixed(digits));

const label = (r: MemberRecord) =>
  r.kind === 'sft'
    ? 'π_sft'
    : r.kind === 'margin-model'
      ? `margin model ${r.key.slice('margin:'.length)} (w_k = 0)`
      : `w = (${r.weights!.join(', ')})`;

export function modpoSweepSummary(
  records: readonly MemberRecord[],
  objectiveNames: readonly string[],
  settings: { beta: number },
): Summary {
  const members = records.filter((r) => r.kind === 'modpo').sort((a, b) => a.weights![0] - b.weights![0]);
  const all = [...records.filter((r) => r.kind !== 'modpo'), ...members];
  const onFront = paretoFront(all.map((r) => r.objectives));
  const wk = members.map((r) => r.weights![0]);
  const taus = objectiveNames.map((_, j) =>
    weightOrder(
      wk,
      members.map((r) => r.objectives[j]),
    ),
  );
  const [x, y] = [0, 1];

  const plots: Plot[] = [];
  if (objectiveNames.length >= 2) {
    const front = all.filter((_, i) => onFront[i]).sort((a, b) => a.objectives[x] - b.objectives[x]);
    const series: Series[] = all.map((r) => ({
      name: label(r),
      points: [[r.objectives[x], r.objectives[y]]],
      mode: 'markers',
    }));
    series.push({ name: 'Pareto front', points: front.map((r) => [r.objectives[x], r.objectives[y]]), mode: 'line' });
    plots.push({
      type: 'scatter',
      title: `Pareto front: ${objectiveNames[x]} vs ${objectiveNames[y]}`,
      xLabel: objectiveNames[x],
      yLabel: objectiveNames[y],
      series,
      note: 'Each point is one policy evaluated on the same prompts and seeds; the line joins the non-dominated ones (both objectives higher = better).',
    });
  }
  objectiveNames.forEach((name, j) => {
    plots.push({
      type: 'line',
      title: `${name} by w_k`,
      xLabel: 'w_k (weight of the trained objective)',
      yLabel: name,
      series: [{ name: 'MODPO', points: members.map((r) => [r.weights![0], r.objectives[j]]), mode: 'line+markers' }],
    });
  });

  const metrics: Record<string, number | string | null> = {
    members: members.length,
    'on the front': onFront.filter(Boolean).length,
    β: settings.beta,
  };
  objectiveNames.forEach((name, j) => {
    metrics[`τ(w_k, ${name})`] = finiteOrNull(taus[j]);
  });
  return {
    kind: 'sweep modpo',
    title: `MODPO sweep: ${objectiveNames.join(' vs ')}`,
    metrics,
    tables: [
      {
        title: 'Family members',
        columns: ['policy', ...objectiveNames, 'mean length (tokens)', 'on front', 'train loss', 'train accuracy'],
        rows: all.map((r, i) => [
          label(r),
          ...r.objectives.map((v) => round(v)),
          round(r.meanLength, 1),
          onFront[i] ? 'yes' : '',
          round(r.trainMetrics?.loss),
          round(r.trainMetrics?.['rewards/accuracies']),
        ]),
        note: `w_k weighs the trained objective (${objectiveNames[0]}), the other weights the margin models in order. τ is Kendall's τ between w_k and each objective over the MODPO members.`,
      },
    ],
    plots,
    frontOrder: Object.fromEntries(objectiveNames.map((n, j) => [n, taus[j]])),
  };
}
