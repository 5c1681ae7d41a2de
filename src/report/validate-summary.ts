import type { Summary } from '../run/summary.ts';
import { formatError } from '../errors.ts';

const PLOT_TYPES = ['line', 'scatter', 'bar', 'radar', 'heatmap'] as const;
const MODES = ['line', 'markers', 'line+markers'] as const;
const SCALES = ['linear', 'log'] as const;

type Json = Record<string, unknown>;

/**
 * Checks that a parsed summary.json has the shape of a Summary, naming the field and what was
 * expected when it doesn't. Numbers may be null (JSON's NaN); nothing else is coerced.
 */
export function validateSummary(value: unknown, file?: string): Summary {
  const fail = (field: string, expected: string, got: unknown): never => {
    throw formatError(`expected ${expected}, got ${describe(got)}`, { file, field });
  };
  const object = (v: unknown, field: string): Json =>
    v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : fail(field, 'an object', v);
  const array = (v: unknown, field: string): unknown[] => (Array.isArray(v) ? v : fail(field, 'an array', v));
  const string = (v: unknown, field: string): string => (typeof v === 'string' ? v : fail(field, 'a string', v));
  const optionalString = (v: unknown, field: string) => (v === undefined ? undefined : string(v, field));
  const oneOf = <T extends string>(v: unknown, allowed: readonly T[], field: string): T =>
    (allowed as readonly unknown[]).includes(v)
      ? (v as T)
      : fail(field, `one of ${allowed.map((a) => `"${a}"`).join(', ')}`, v);
  const numberOrNull = (v: unknown, field: string) =>
    v === null || typeof v === 'number' ? v : fail(field, 'a number or null', v);

  const root = object(value, '(top level)');
  string(root.kind, 'kind');
  string(root.title, 'title');
  if (root.metrics !== undefined) {
    for (const [k, v] of Object.entries(object(root.metrics, 'metrics'))) {
      if (v !== null && typeof v !== 'number' && typeof v !== 'string')
        fail(`metrics.${k}`, 'a number, string or null', v);
    }
  }
  array(root.tables, 'tables').forEach((t, ti) => {
    const at = `tables[${ti}]`;
    const table = object(t, at);
    string(table.title, `${at}.title`);
    array(table.columns, `${at}.columns`).forEach((c, ci) => string(c, `${at}.columns[${ci}]`));
    array(table.rows, `${at}.rows`).forEach((r, ri) =>
      array(r, `${at}.rows[${ri}]`).forEach((cell, ci) => {
        if (cell !== null && typeof cell !== 'number' && typeof cell !== 'string')
          fail(`${at}.rows[${ri}][${ci}]`, 'a number, string or null', cell);
      }),
    );
    optionalString(table.note, `${at}.note`);
  });
  array(root.plots, 'plots').forEach((p, pi) => {
    const at = `plots[${pi}]`;
    const plot = object(p, at);
    oneOf(plot.type, PLOT_TYPES, `${at}.type`);
    string(plot.title, `${at}.title`);
    optionalString(plot.xLabel, `${at}.xLabel`);
    optionalString(plot.yLabel, `${at}.yLabel`);
    optionalString(plot.note, `${at}.note`);
    if (plot.xScale !== undefined) oneOf(plot.xScale, SCALES, `${at}.xScale`);
    if (plot.yScale !== undefined) oneOf(plot.yScale, SCALES, `${at}.yScale`);
    if (plot.yRange !== undefined) {
      const range = array(plot.yRange, `${at}.yRange`);
      if (range.length !== 2 || !range.every((v) => typeof v === 'number'))
        fail(`${at}.yRange`, '[min, max] numbers', plot.yRange);
    }
    array(plot.series, `${at}.series`).forEach((s, si) => {
      const sat = `${at}.series[${si}]`;
      const series = object(s, sat);
      string(series.name, `${sat}.name`);
      if (series.mode !== undefined) oneOf(series.mode, MODES, `${sat}.mode`);
      array(series.points, `${sat}.points`).forEach((pt, i) => {
        const point = array(pt, `${sat}.points[${i}]`);
        if (point.length < 2) fail(`${sat}.points[${i}]`, 'an [x, y] pair', pt);
        if (typeof point[0] !== 'number' && typeof point[0] !== 'string')
          fail(`${sat}.points[${i}][0]`, 'a number or a category string', point[0]);
        numberOrNull(point[1], `${sat}.points[${i}][1]`);
      });
      if (series.errors !== undefined) {
        const errors = array(series.errors, `${sat}.errors`);
        if (errors.length !== (series.points as unknown[]).length)
          fail(`${sat}.errors`, `one error per point (${(series.points as unknown[]).length})`, series.errors);
        errors.forEach((e, i) => {
          if (e !== null && !(typeof e === 'number' && e >= 0)) fail(`${sat}.errors[${i}]`, 'a number ≥ 0 or null', e);
        });
      }
    });
  });
  return root as unknown as Summary;
}

function describe(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? v.slice(0, 40) + '…' : v);
  return typeof v === 'object' ? 'an object' : `${typeof v} ${String(v)}`;
}
