import type { Plot } from '../run/summary.ts';
import type { PlotBody, PlotContext } from './plot-body.ts';
import { plural } from './plot-body.ts';
import { categoriesOf, valuesByCategory } from './plot-data.ts';
import { makeScale } from './scale.ts';
import { renderLegend } from './plot-legend.ts';
import { renderBar } from './plot-bar.ts';
import { marker } from './markers.ts';
import { formatValue } from './format-number.ts';
import { escapeHtml } from './escape-html.ts';
import { el, label, px, textWidth } from './svg.ts';

const LABEL_FONT = 12;
const LABEL_MAX = 150;
const MAX_RADIUS = 165;

/**
 * One polygon per series over the categories (e.g. abilities), rings at the scale's ticks. Fewer
 * than three categories make no polygon, so those are drawn as bars.
 */
export function renderRadar(plot: Plot, ctx: PlotContext): PlotBody | undefined {
  const categories = categoriesOf(plot.series);
  if (categories.length < 3) {
    const bars = renderBar(plot, ctx);
    return bars && { ...bars, notes: [...bars.notes, 'Fewer than 3 categories: drawn as bars.'] };
  }
  const values = plot.series.map((s) => valuesByCategory(s, categories));
  const finite = values.flat().filter(Number.isFinite);
  if (finite.length === 0) return undefined;
  const notes: string[] = [];
  const missing = values.flat().length - finite.length;
  if (missing) notes.push(`${plural(missing, 'value')} missing or not finite: left out of the polygon.`);

  const scale = makeScale(finite, { includeZero: !plot.yRange, range: plot.yRange, tickCount: 4 })!;
  const legend =
    plot.series.length > 1
      ? renderLegend(
          plot.series.map((s) => {
            const style = ctx.colors.style(s.name);
            return { name: s.name, color: style.color, marker: style.marker, dash: style.dash, line: true };
          }),
          12,
          6,
          ctx.width - 24,
        )
      : { svg: '', height: 0 };
  const widest = Math.min(LABEL_MAX, Math.max(...categories.map((c) => textWidth(c, LABEL_FONT))));
  const radius = Math.max(60, Math.min(MAX_RADIUS, ctx.width / 2 - widest - 16));
  const cx = ctx.width / 2;
  const cy = legend.height + 6 + 28 + radius;
  const height = cy + radius + 34;
  const angle = (i: number) => -Math.PI / 2 + (2 * Math.PI * i) / categories.length;
  const at = (i: number, fraction: number): [number, number] => [
    cx + Math.cos(angle(i)) * radius * fraction,
    cy + Math.sin(angle(i)) * radius * fraction,
  ];
  const fractionOf = (v: number) => Math.min(1, Math.max(0, scale.fraction(v)));
  const ring = (fraction: number) => categories.map((_, i) => at(i, fraction).map(px).join(',')).join(' ');

  const grid: string[] = [];
  for (const t of scale.ticks) {
    const f = fractionOf(t);
    if (f <= 0) continue;
    grid.push(
      el('polygon', {
        class: 'grid',
        points: ring(f),
        fill: 'none',
        stroke: f >= 1 ? '#bdbdbd' : '#e3e3e3',
        'stroke-width': 1,
      }),
    );
  }
  if (!scale.ticks.some((t) => fractionOf(t) >= 1))
    grid.push(el('polygon', { class: 'grid', points: ring(1), fill: 'none', stroke: '#bdbdbd' }));
  categories.forEach((c, i) => {
    const [x, y] = at(i, 1);
    grid.push(el('line', { class: 'grid', x1: cx, y1: cy, x2: x, y2: y, stroke: '#e3e3e3' }));
    const cos = Math.cos(angle(i));
    const sin = Math.sin(angle(i));
    const [lx, ly] = at(i, 1 + 10 / radius);
    const anchor = cos > 0.1 ? 'start' : cos < -0.1 ? 'end' : 'middle';
    const room =
      anchor === 'start' ? ctx.width - lx - 4 : anchor === 'end' ? lx - 4 : 2 * Math.min(lx, ctx.width - lx) - 8;
    grid.push(
      label(c, Math.max(40, room), LABEL_FONT, {
        x: lx,
        y: ly + (sin > 0.3 ? 11 : sin < -0.3 ? -3 : 4),
        'text-anchor': anchor,
        fill: '#333',
      }),
    );
  });
  for (const t of scale.ticks) {
    const f = fractionOf(t);
    if (f <= 0) continue;
    grid.push(
      el('text', { x: cx + 4, y: cy - f * radius + 11, 'font-size': 10, fill: '#777' }, escapeHtml(scale.label(t))),
    );
  }

  const areas: string[] = [];
  const markers: string[] = [];
  plot.series.forEach((s, si) => {
    const { color, marker: shape, dash } = ctx.colors.style(s.name);
    const vertices = values[si].flatMap((v, i) => (Number.isFinite(v) ? [{ i, v, xy: at(i, fractionOf(v)) }] : []));
    if (vertices.length === 0) return;
    areas.push(
      el('polygon', {
        class: 'radar-area',
        points: vertices.map((p) => p.xy.map(px).join(',')).join(' '),
        fill: color,
        'fill-opacity': 0.12,
        stroke: color,
        'stroke-width': 2,
        'stroke-linejoin': 'round',
        'stroke-dasharray': dash,
      }),
    );
    for (const p of vertices) {
      const tooltip = el('title', {}, escapeHtml(`${s.name}: ${categories[p.i]} = ${formatValue(p.v)}`));
      markers.push(
        marker(
          shape,
          p.xy[0],
          p.xy[1],
          3.5,
          { class: 'point', fill: color, stroke: '#fff', 'stroke-width': 1 },
          tooltip,
        ),
      );
    }
  });
  return {
    svg: legend.svg + el('g', { class: 'frame' }, ...grid) + el('g', { class: 'series' }, ...areas, ...markers),
    height,
    notes,
  };
}
