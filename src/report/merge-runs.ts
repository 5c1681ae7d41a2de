import type { Plot, Summary, Table } from '../run/summary.ts';
import { flatten } from './flatten.ts';

/** One run as a comparison sees it. */
export interface ComparedRun {
  /** unique among the compared runs (the run folder's name) */
  name: string;
  summary: Summary;
  config?: Record<string, unknown>;
  /** link to the run's own report, relative to the comparison page */
  reportHref?: string;
}

/** Plots sharing a title: drawn as one overlaid plot when they can be, else side by side. */
export interface PlotGroup {
  title: string;
  overlay?: Plot;
  /** how the overlay's series are styled: each run's copy of series `key` as variant `variant` */
  variants?: { name: string; key: string; variant: number }[];
  separate: { run: string; plot: Plot }[];
}

/** Tables sharing a title: one table with a "run" column when their columns agree, else side by side. */
export interface TableGroup {
  title: string;
  merged?: Table;
  separate: { run: string; table: Table }[];
}

const OVERLAY_TYPES = new Set<Plot['type']>(['line', 'scatter', 'bar', 'radar']);
const OVERLAY_MAX_SERIES = 10;

function groupByTitle<T extends { title: string }>(
  runs: ComparedRun[],
  pick: (s: Summary) => T[],
): { title: string; members: { run: string; item: T }[] }[] {
  const groups = new Map<string, { run: string; item: T }[]>();
  for (const run of runs) {
    for (const item of pick(run.summary)) {
      if (!groups.has(item.title)) groups.set(item.title, []);
      groups.get(item.title)!.push({ run: run.name, item });
    }
  }
  return [...groups].map(([title, members]) => ({ title, members }));
}

export function groupPlots(runs: ComparedRun[]): PlotGroup[] {
  return groupByTitle(runs, (s) => s.plots).map(({ title, members }) => {
    const separate = members.map((m) => ({ run: m.run, plot: m.item }));
    const first = members[0].item;
    const seriesCount = members.reduce((n, m) => n + m.item.series.length, 0);
    const runsInvolved = new Set(members.map((m) => m.run)).size;
    const overlayable =
      runsInvolved > 1 &&
      OVERLAY_TYPES.has(first.type) &&
      members.every((m) => m.item.type === first.type) &&
      seriesCount <= OVERLAY_MAX_SERIES;
    if (!overlayable) return { title, separate };
    // one series per run: the runs are the series; several: a run's copy of a series is a variant of it
    const oneSeriesEach = members.every((m) => m.item.series.length === 1);
    const runIndex = new Map(runs.map((r, i) => [r.name, i]));
    const variants = members.flatMap((m) =>
      m.item.series.map((s) =>
        oneSeriesEach
          ? { name: m.run, key: m.run, variant: 0 }
          : { name: `${m.run} · ${s.name}`, key: s.name, variant: runIndex.get(m.run)! },
      ),
    );
    let k = 0;
    const overlay: Plot = {
      ...first,
      note: undefined,
      series: members.flatMap((m) => m.item.series.map((s) => ({ ...s, name: variants[k++].name }))),
    };
    return { title, overlay, variants, separate };
  });
}

export function groupTables(runs: ComparedRun[]): TableGroup[] {
  return groupByTitle(runs, (s) => s.tables).map(({ title, members }) => {
    const separate = members.map((m) => ({ run: m.run, table: m.item }));
    const columns = JSON.stringify(members[0].item.columns);
    const runsInvolved = new Set(members.map((m) => m.run)).size;
    if (runsInvolved < 2 || !members.every((m) => JSON.stringify(m.item.columns) === columns))
      return { title, separate };
    const notes = [...new Set(members.map((m) => m.item.note).filter((n): n is string => Boolean(n)))];
    const merged: Table = {
      title,
      columns: ['run', ...members[0].item.columns],
      rows: members.flatMap((m) => m.item.rows.map((r) => [m.run, ...r])),
      note: notes.length ? notes.join(' ') : undefined,
    };
    return { title, merged, separate };
  });
}

/** Headline metrics side by side: one row per metric name, one column per run. */
export function metricsTable(runs: ComparedRun[]): Table | undefined {
  const names = [...new Set(runs.flatMap((r) => Object.keys(r.summary.metrics ?? {})))];
  if (names.length === 0) return undefined;
  return {
    title: 'Headline metrics',
    columns: ['metric', ...runs.map((r) => r.name)],
    rows: names.map((n) => [n, ...runs.map((r) => r.summary.metrics?.[n] ?? null)]),
  };
}

const NOT_SETTINGS = new Set(['writtenAt']);

/** The configuration keys whose values differ between runs (a run without the key shows "—"). */
export function configDifferences(runs: ComparedRun[]): Table | undefined {
  const flat = runs.map((r) => new Map(r.config ? flatten(r.config) : []));
  const keys = [...new Set(flat.flatMap((m) => [...m.keys()]))].filter((k) => !NOT_SETTINGS.has(k));
  const differing = keys.filter((k) => new Set(flat.map((m) => JSON.stringify(m.get(k)))).size > 1);
  if (differing.length === 0) return undefined;
  const show = (v: unknown) =>
    v === undefined ? null : typeof v === 'number' || typeof v === 'string' ? v : JSON.stringify(v);
  return {
    title: 'Settings that differ',
    columns: ['setting', ...runs.map((r) => r.name)],
    rows: differing.map((k) => [k, ...flat.map((m) => show(m.get(k)))]),
  };
}
