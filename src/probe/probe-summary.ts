/**
 * Turns sweep rows into the run's Summary: the headline (best layer per attribute, chosen on
 * validation), the comparison with every control, the layer curves, the timeline and, with
 * several models, the per-model comparison.
 */
import type { Plot, Series, Summary, Table } from '../run/summary.ts';
import { primaryMetric } from './metrics.ts';
import type { MeanSd } from './probe-evaluation.ts';
import { promptGroup, randomInitGroup } from './representation-store.ts';
import { surfaceRepresentation, type SkippedFit, type SweepRow } from './probe-sweep.ts';
import { finiteOrNull } from '../util/finite.ts';

const round = (v: number, digits = 3) => (Number.isFinite(v) ? Number(v.toFixed(digits)) : null);
const meanSd = (m: MeanSd | undefined) => (m ? `${m.mean.toFixed(3)} ± ${m.sd.toFixed(3)}` : '—');
const metricOf = (row: SweepRow) => primaryMetric(row.task);

/** The row with the best validation score of its curve (ties: the lower layer). */
export function bestByValidation(rows: readonly SweepRow[]): SweepRow | undefined {
  let best: SweepRow | undefined;
  for (const row of rows) {
    const v = row.val[metricOf(row)]?.mean ?? -Infinity;
    const b = best ? (best.val[metricOf(best)]?.mean ?? -Infinity) : -Infinity;
    if (!best || v > b || (v === b && (row.layer ?? 0) < (best.layer ?? 0))) best = row;
  }
  return best;
}

interface CurveKey {
  model: string;
  attribute: string;
  probe: string;
}
const curveId = (k: CurveKey) => `${k.model}|${k.attribute}|${k.probe}`;

/** Rows of one curve: a representation and control for a model, attribute and probe. */
function curve(
  rows: readonly SweepRow[],
  key: CurveKey,
  representation: string,
  control: SweepRow['control'] = 'none',
): SweepRow[] {
  return rows
    .filter(
      (r) =>
        r.model === key.model &&
        r.attribute === key.attribute &&
        r.probe === key.probe &&
        r.representation === representation &&
        r.control === control,
    )
    .sort((a, b) => (a.layer ?? -1) - (b.layer ?? -1));
}

export interface ProbeSummaryOptions {
  title?: string;
  skipped?: readonly SkippedFit[];
}

export function buildProbeSummary(rows: readonly SweepRow[], options: ProbeSummaryOptions = {}): Summary {
  const keys = new Map<string, CurveKey>();
  for (const r of rows) keys.set(curveId(r), { model: r.model, attribute: r.attribute, probe: r.probe });
  const models = [...new Set(rows.map((r) => r.model))];

  const metrics: Record<string, number | string | null> = {};
  const bestRows: Table['rows'] = [];
  const plots: Plot[] = [];
  const timeline: { key: CurveKey; t: number; row: SweepRow }[] = [];

  for (const key of keys.values()) {
    const main = curve(rows, key, promptGroup);
    const best = bestByValidation(main);
    const sample = main[0] ?? rows.find((r) => curveId(r) === curveId(key))!;
    const metric = metricOf(sample);
    const atBest = (representation: string, control: SweepRow['control'] = 'none') =>
      bestByValidation(curve(rows, key, representation, control));
    const randomInit = atBest(randomInitGroup),
      surface = atBest(surfaceRepresentation),
      shuffled = atBest(promptGroup, 'shuffled-labels');
    if (best) {
      metrics[
        `${models.length > 1 ? `${key.model} ` : ''}${key.attribute} ${metric} (${key.probe}, layer ${best.layer})`
      ] = finiteOrNull(best.test[metric].mean);
      bestRows.push([
        key.model,
        key.attribute,
        key.probe,
        metric,
        best.layer,
        meanSd(best.test[metric]),
        randomInit ? meanSd(randomInit.test[metric]) : '—',
        surface ? meanSd(surface.test[metric]) : '—',
        shuffled ? meanSd(shuffled.test[metric]) : '—',
        round(best.chance[metric].mean),
        `${best.items}${best.missing ? ` (+${best.missing} without a value)` : ''}`,
      ]);
    }

    const flat = (name: string, value: number | undefined, layers: number[]): Series | null =>
      value === undefined ? null : { name, points: layers.map((l) => [l, value] as [number, number]), mode: 'line' };
    const layers = main.map((r) => r.layer!);
    const series: Series[] = [
      {
        name: 'model states',
        points: main.map((r) => [r.layer!, r.test[metric].mean] as [number, number]),
        mode: 'line+markers',
      },
      ...[randomInitGroup].flatMap((rep) => {
        const c = curve(rows, key, rep);
        return c.length
          ? [
              {
                name: 'random-init model',
                points: c.map((r) => [r.layer!, r.test[metric].mean] as [number, number]),
                mode: 'line+markers' as const,
              },
            ]
          : [];
      }),
      ...(() => {
        const c = curve(rows, key, promptGroup, 'shuffled-labels');
        return c.length
          ? [
              {
                name: 'shuffled labels',
                points: c.map((r) => [r.layer!, r.test[metric].mean] as [number, number]),
                mode: 'line+markers' as const,
              },
            ]
          : [];
      })(),
      ...[
        flat('surface features', surface?.test[metric].mean, layers),
        flat('chance', best?.chance[metric].mean, layers),
      ].filter((s): s is Series => s !== null),
    ];
    if (main.length)
      plots.push({
        type: 'line',
        title: `Layer curve: ${key.attribute} (${key.probe} probe${models.length > 1 ? `, ${key.model}` : ''})`,
        xLabel: 'layer (0 = embeddings)',
        yLabel: `test ${metric}`,
        series,
      });

    const steps = [
      ...new Set(rows.filter((r) => curveId(r) === curveId(key) && r.step !== null).map((r) => r.step!)),
    ].sort((a, b) => a - b);
    for (const t of steps) {
      const b = bestByValidation(curve(rows, key, `after-${t}`));
      if (b) timeline.push({ key, t, row: b });
    }
  }

  // all attributes on one plot per model and probe: each attribute's curve and its controls
  for (const model of models)
    for (const probe of [...new Set(rows.map((r) => r.probe))]) {
      const series: Series[] = [];
      for (const key of [...keys.values()].filter((k) => k.model === model && k.probe === probe))
        for (const [representation, control, label] of [
          [promptGroup, 'none', ''],
          [randomInitGroup, 'none', ' (random-init)'],
          [promptGroup, 'shuffled-labels', ' (shuffled labels)'],
        ] as const) {
          const c = curve(rows, key, representation, control);
          if (c.length)
            series.push({
              name: `${key.attribute}${label}`,
              points: c.map((r) => [r.layer!, r.test[metricOf(r)].mean] as [number, number]),
              mode: 'line+markers',
            });
        }
      if (series.length)
        plots.push({
          type: 'line',
          title: `Layer curves, all attributes (${probe} probe${models.length > 1 ? `, ${model}` : ''})`,
          xLabel: 'layer (0 = embeddings)',
          yLabel: 'test score (Spearman for regression, macro-F1 for classes)',
          series,
        });
    }

  const tables: Table[] = [
    {
      title: 'Probes on the last prompt token (layer chosen on validation) against the controls',
      columns: [
        'model',
        'attribute',
        'probe',
        'metric',
        'best layer',
        'test',
        'random-init',
        'surface features',
        'shuffled labels',
        'chance',
        'items',
      ],
      rows: bestRows,
      note: 'mean ± sd over seeds; each control is also read at its own best validation layer',
    },
  ];
  if (timeline.length) {
    tables.push({
      title: 'During generation: the state after t response tokens',
      columns: ['model', 'attribute', 'probe', 't', 'best layer', 'test', 'chance', 'items'],
      rows: timeline.map(({ key, t, row }) => [
        key.model,
        key.attribute,
        key.probe,
        t,
        row.layer,
        meanSd(row.test[metricOf(row)]),
        round(row.chance[metricOf(row)].mean),
        row.items,
      ]),
      note: 'length is the remaining length after t tokens',
    });
    for (const model of models)
      for (const probe of [...new Set(rows.map((r) => r.probe))]) {
        const series: Series[] = [];
        for (const key of [...keys.values()].filter((k) => k.model === model && k.probe === probe)) {
          const p0 = bestByValidation(curve(rows, key, promptGroup));
          const pts = timeline
            .filter((p) => curveId(p.key) === curveId(key))
            .map((p) => [p.t, p.row.test[metricOf(p.row)].mean] as [number, number]);
          if (pts.length)
            series.push({
              name: key.attribute,
              points: [...(p0 ? [[0, p0.test[metricOf(p0)].mean] as [number, number]] : []), ...pts],
              mode: 'line+markers',
            });
        }
        if (series.length)
          plots.push({
            type: 'line',
            title: `During generation (${probe} probe${models.length > 1 ? `, ${model}` : ''})`,
            xLabel: 'response tokens generated (t)',
            yLabel: 'test score at the best layer',
            series,
          });
      }
  }
  if (models.length > 1) {
    const attributes = [...new Set(rows.map((r) => r.attribute))];
    plots.push({
      type: 'bar',
      title: 'Per model: best-layer test score',
      yLabel: 'test score',
      series: attributes.map((attribute) => ({
        name: attribute,
        points: models.flatMap((model) => {
          const b = bestByValidation(
            rows.filter(
              (r) =>
                r.model === model &&
                r.attribute === attribute &&
                r.representation === promptGroup &&
                r.control === 'none',
            ),
          );
          return b ? [[model, b.test[metricOf(b)].mean] as [string, number]] : [];
        }),
      })),
    });
  }
  tables.push({
    title: 'Layer curves (test, mean over seeds)',
    columns: ['model', 'attribute', 'probe', 'states', 'control', 'layer', 'metric', 'test', 'validation', 'chance'],
    rows: sortedForTable(rows).map((r) => [
      r.model,
      r.attribute,
      r.probe,
      r.representation,
      r.control,
      r.layer,
      metricOf(r),
      meanSd(r.test[metricOf(r)]),
      round(r.val[metricOf(r)].mean),
      round(r.chance[metricOf(r)].mean),
    ]),
  });
  if (options.skipped?.length)
    tables.push({
      title: 'Not probed',
      columns: ['model', 'states', 'attribute', 'reason'],
      rows: options.skipped.map((s) => [s.model, s.representation, s.attribute, s.reason]),
    });
  return { kind: 'probe fit', title: options.title ?? 'Probing emergent response planning', metrics, tables, plots };
}

/** Model, attribute and probe in order of appearance; then prompt, shuffled, random-init, timeline, surface; then layer. */
function sortedForTable(rows: readonly SweepRow[]): SweepRow[] {
  const firstSeen = (values: string[]) => new Map([...new Set(values)].map((v, i) => [v, i]));
  const model = firstSeen(rows.map((r) => r.model)),
    attribute = firstSeen(rows.map((r) => r.attribute)),
    probe = firstSeen(rows.map((r) => r.probe));
  const kind = (r: SweepRow) =>
    r.representation === promptGroup
      ? r.control === 'none'
        ? 0
        : 1
      : r.representation === randomInitGroup
        ? 2
        : r.representation === surfaceRepresentation
          ? 1e9
          : 3 + (r.step ?? 0);
  const key = (r: SweepRow) => [
    model.get(r.model)!,
    attribute.get(r.attribute)!,
    probe.get(r.probe)!,
    kind(r),
    r.layer ?? -1,
  ];
  return [...rows].sort((a, b) => {
    const ka = key(a),
      kb = key(b);
    for (let i = 0; i < ka.length; i++) if (ka[i] !== kb[i]) return ka[i] - kb[i];
    return 0;
  });
}
