import type { Plot } from '../run/summary.ts';
import type { PlotBody, PlotContext } from './plot-body.ts';
import { plural } from './plot-body.ts';
import { categoriesOf, categoryLabel, drawableY, errorOf } from './plot-data.ts';
import { errorBar, withError } from './error-bar.ts';
import { makeScale } from './scale.ts';
import { layoutCartesian, type AxisSpec } from './plot-cartesian.ts';
import { renderLegend } from './plot-legend.ts';
import { marker } from './markers.ts';
import { formatValue } from './format-number.ts';
import { escapeHtml } from './escape-html.ts';
import { el, px } from './svg.ts';

const HEIGHT = 380;
const MARKERS_UP_TO = 40;

interface XYPoint {
  x: number;
  y: number;
  shownX: string;
  /** the error bar's half-width (0: none) */
  error: number;
}

/**
 * Keeps a long polyline drawable: per pixel column, its first, lowest, highest and last point,
 * so spikes survive. Only for x in increasing order (curves over steps).
 */
export function thinPolyline(points: [number, number][], columns: number): [number, number][] {
  if (points.length <= columns * 4) return points;
  for (let i = 1; i < points.length; i++) if (points[i][0] < points[i - 1][0]) return points;
  const out: [number, number][] = [];
  let column = Math.floor(points[0][0]);
  let bucket: [number, number][] = [];
  const flush = () => {
    if (bucket.length === 0) return;
    const lowest = bucket.reduce((a, b) => (b[1] < a[1] ? b : a));
    const highest = bucket.reduce((a, b) => (b[1] > a[1] ? b : a));
    const keep = [bucket[0], lowest, highest, bucket[bucket.length - 1]].sort(
      (a, b) => bucket.indexOf(a) - bucket.indexOf(b),
    );
    for (const p of keep) if (out[out.length - 1] !== p) out.push(p);
    bucket = [];
  };
  for (const p of points) {
    if (Math.floor(p[0]) !== column) {
      flush();
      column = Math.floor(p[0]);
    }
    bucket.push(p);
  }
  flush();
  return out;
}

/** Line and scatter plots: numeric x (linear or log) or, when any x is a string, categories. */
export function renderXY(plot: Plot, ctx: PlotContext): PlotBody | undefined {
  const categorical = plot.series.some((s) => s.points.some(([x]) => typeof x === 'string'));
  const categories = categorical ? categoriesOf(plot.series) : [];
  const categoryIndex = new Map(categories.map((c, i) => [c, i]));
  const xLog = !categorical && plot.xScale === 'log';
  const yLog = plot.yScale === 'log';
  const notes: string[] = [];

  let missing = 0;
  let notPositive = 0;
  const series = plot.series.map((s) => ({
    source: s,
    points: s.points.map(([rawX, rawY], i): XYPoint | undefined => {
      const x = categorical ? categoryIndex.get(categoryLabel(rawX))! : drawableY(rawX);
      const y = drawableY(rawY);
      if (!Number.isFinite(x) || !Number.isFinite(y)) {
        missing++;
        return undefined;
      }
      if ((xLog && x <= 0) || (yLog && y <= 0)) {
        notPositive++;
        return undefined;
      }
      const error = errorOf(s, i);
      return {
        x,
        y,
        shownX: categorical ? categoryLabel(rawX) : formatValue(x),
        error: yLog && y - error <= 0 ? 0 : error,
      };
    }),
  }));
  const drawn = series.flatMap((s) => s.points.filter((p): p is XYPoint => p !== undefined));
  if (missing) notes.push(`${plural(missing, 'point')} without a finite value not drawn.`);
  if (notPositive) notes.push(`${plural(notPositive, 'point')} ≤ 0 not drawn on the log scale.`);
  const empty = series.filter((s) => s.points.every((p) => p === undefined)).map((s) => s.source.name);
  if (empty.length && drawn.length) notes.push(`No drawable points in: ${empty.join(', ')}.`);
  if (drawn.length === 0) return undefined;

  const xAxis: AxisSpec = categorical
    ? { kind: 'category', categories, title: plot.xLabel }
    : {
        kind: 'numeric',
        scale: makeScale(
          drawn.map((p) => p.x),
          { log: xLog, pad: plot.type === 'scatter' ? 0.03 : 0 },
        )!,
        title: plot.xLabel,
      };
  const yAxis: AxisSpec = {
    kind: 'numeric',
    scale: makeScale(
      drawn.flatMap((p) => (p.error > 0 ? [p.y - p.error, p.y + p.error] : [p.y])),
      { log: yLog, range: plot.yRange, pad: 0.03 },
    )!,
    title: plot.yLabel,
  };

  const defaultMode = (count: number) =>
    plot.type === 'scatter' ? 'markers' : count <= MARKERS_UP_TO ? 'line+markers' : 'line';
  const modes = series.map((s) => s.source.mode ?? defaultMode(s.points.length));
  const legend =
    plot.series.length > 1
      ? renderLegend(
          plot.series.map((s, i) => {
            const style = ctx.colors.style(s.name);
            return {
              name: s.name,
              color: style.color,
              dash: style.dash,
              line: modes[i] !== 'markers',
              marker: modes[i] !== 'line' ? style.marker : undefined,
            };
          }),
          12,
          6,
          ctx.width - 24,
        )
      : { svg: '', height: 0 };
  const frame = layoutCartesian(xAxis, yAxis, ctx.width, HEIGHT + legend.height, legend.height + 6);

  const lines: string[] = [];
  const whiskers: string[] = [];
  const markers: string[] = [];
  series.forEach((s, i) => {
    const name = s.source.name;
    const { color, marker: shape, dash } = ctx.colors.style(name);
    const segments: XYPoint[][] = [[]];
    for (const p of s.points) {
      if (p) segments[segments.length - 1].push(p);
      else if (segments[segments.length - 1].length) segments.push([]);
    }
    const screen = (p: XYPoint): [number, number] => [frame.x.at(p.x), frame.y.at(p.y)];
    if (modes[i] !== 'markers') {
      const d = segments
        .filter((seg) => seg.length > 1)
        .map((seg) =>
          thinPolyline(seg.map(screen), frame.area.right - frame.area.left)
            .map(([x, y], j) => `${j ? 'L' : 'M'}${px(x)} ${px(y)}`)
            .join(''),
        )
        .join('');
      if (d)
        lines.push(
          el('path', {
            class: 'series-line',
            d,
            fill: 'none',
            stroke: color,
            'stroke-width': 2,
            'stroke-linejoin': 'round',
            'stroke-dasharray': dash,
          }),
        );
    }
    const withMarkers = modes[i] === 'line' ? segments.filter((seg) => seg.length === 1).flat() : segments.flat();
    for (const p of s.points)
      if (p && p.error > 0)
        whiskers.push(errorBar(frame.x.at(p.x), frame.y.at(p.y - p.error), frame.y.at(p.y + p.error), true, color));
    for (const p of withMarkers) {
      const [x, y] = screen(p);
      const tooltip = el(
        'title',
        {},
        escapeHtml(
          `${name}: ${plot.xLabel ?? 'x'} = ${p.shownX}, ${plot.yLabel ?? 'y'} = ${withError(formatValue(p.y), p.error, formatValue)}`,
        ),
      );
      markers.push(
        marker(
          shape,
          x,
          y,
          modes[i] === 'markers' ? 4.5 : 3.2,
          { class: 'point', fill: color, stroke: '#fff', 'stroke-width': 1 },
          tooltip,
        ),
      );
    }
  });
  return {
    svg: legend.svg + frame.svg + el('g', { class: 'series' }, ...lines, ...whiskers, ...markers),
    height: HEIGHT + legend.height,
    notes,
  };
}
