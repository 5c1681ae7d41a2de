import type { Plot } from '../run/summary.ts';
import type { PlotBody, PlotContext } from './plot-body.ts';
import { plural } from './plot-body.ts';
import { categoriesOf, errorsByCategory, valuesByCategory, withErrorEnds } from './plot-data.ts';
import { errorBar, withError } from './error-bar.ts';
import { makeScale } from './scale.ts';
import { layoutCartesian, type AxisSpec } from './plot-cartesian.ts';
import { renderLegend } from './plot-legend.ts';
import { formatValue } from './format-number.ts';
import { escapeHtml } from './escape-html.ts';
import { el, textWidth } from './svg.ts';

const HEIGHT = 360;
const VALUE_FONT = 10.5;
const LABELLED_BARS_UP_TO = 16;

/**
 * Grouped bars, one group per category, one bar per series, from zero (so negative values point
 * down). Long category labels turn the plot sideways: categories down the left, bars to the right.
 */
export function renderBar(plot: Plot, ctx: PlotContext): PlotBody | undefined {
  const categories = categoriesOf(plot.series);
  const values = plot.series.map((s) => valuesByCategory(s, categories));
  const errors = plot.series.map((s) => errorsByCategory(s, categories));
  const finite = values.flat().filter(Number.isFinite);
  if (finite.length === 0) return undefined;
  const notes: string[] = [];
  const missing = plot.series.reduce(
    (n, s) => n + s.points.filter(([, y]) => !(typeof y === 'number' && Number.isFinite(y))).length,
    0,
  );
  if (missing) notes.push(`${plural(missing, 'value')} without a finite number not drawn.`);

  const shown = plot.series.flatMap((_, si) => withErrorEnds(values[si], errors[si])).filter(Number.isFinite);
  const scale = makeScale(shown, { includeZero: true, range: plot.yRange })!;
  const legend =
    plot.series.length > 1
      ? renderLegend(
          plot.series.map((s) => ({
            name: s.name,
            color: ctx.colors.style(s.name).color,
            opacity: ctx.colors.style(s.name).opacity,
          })),
          12,
          6,
          ctx.width - 24,
        )
      : { svg: '', height: 0 };

  const widest = Math.max(...categories.map((c) => textWidth(c, 12)));
  const roughBand = (ctx.width - 90) / categories.length;
  const sideways = widest > roughBand - 6 && widest > 60;
  const groupSize = plot.series.length;
  const band = Math.max(26, groupSize * 12 + 10);
  const height = sideways
    ? legend.height + 6 + 8 + Math.max(150, categories.length * band) + 52
    : HEIGHT + legend.height;

  const valueAxis: AxisSpec = { kind: 'numeric', scale, title: plot.yLabel };
  const categoryAxis: AxisSpec = { kind: 'category', categories, title: plot.xLabel };
  const frame = sideways
    ? layoutCartesian(valueAxis, categoryAxis, ctx.width, height, legend.height + 6)
    : layoutCartesian(categoryAxis, valueAxis, ctx.width, height, legend.height + 6);
  const categoryPlaced = sideways ? frame.y : frame.x;
  const valuePlaced = sideways ? frame.x : frame.y;
  const slot = Math.min(38, (categoryPlaced.band * 0.8) / groupSize);
  const thickness = Math.max(1, slot - (groupSize > 1 ? 2 : 0));
  const zero = valuePlaced.at(Math.min(Math.max(0, scale.min), scale.max));
  const labelled = categories.length * groupSize <= LABELLED_BARS_UP_TO;

  const bars: string[] = [];
  const whiskers: string[] = [];
  const labels: string[] = [];
  plot.series.forEach((s, si) => {
    const { color, opacity } = ctx.colors.style(s.name);
    values[si].forEach((v, ci) => {
      if (!Number.isFinite(v)) return;
      const start = categoryPlaced.at(ci) - (slot * groupSize) / 2 + slot * si + (slot - thickness) / 2;
      const end = valuePlaced.at(v);
      const length = Math.abs(end - zero);
      const error = errors[si][ci];
      const tooltip = el(
        'title',
        {},
        escapeHtml(
          `${plot.series.length > 1 ? s.name + ': ' : ''}${categories[ci]} = ${withError(formatValue(v), error, formatValue)}`,
        ),
      );
      if (error > 0)
        whiskers.push(
          errorBar(start + thickness / 2, valuePlaced.at(v - error), valuePlaced.at(v + error), !sideways, '#333'),
        );
      const rect = sideways
        ? { x: Math.min(zero, end), y: start, width: length, height: thickness }
        : { x: start, y: Math.min(zero, end), width: thickness, height: length };
      bars.push(
        el(
          'rect',
          {
            class: 'bar',
            ...rect,
            fill: color,
            'fill-opacity': opacity < 1 ? opacity : undefined,
            stroke: opacity < 1 ? color : undefined,
          },
          tooltip,
        ),
      );
      if (!labelled || error > 0) return; // an error bar takes the label's place
      const text = formatValue(v);
      const textLength = textWidth(text, VALUE_FONT);
      const direction = v < 0 ? -1 : 1;
      if (sideways) {
        if (thickness < VALUE_FONT) return;
        const inside = length > textLength + 10;
        const x = end + direction * (inside ? -5 : 5);
        const anchor = direction > 0 === inside ? 'end' : 'start';
        labels.push(
          el(
            'text',
            {
              class: 'value',
              x,
              y: start + thickness / 2 + 3.5,
              'font-size': VALUE_FONT,
              'text-anchor': anchor,
              fill: inside && opacity > 0.6 ? '#fff' : '#333',
            },
            escapeHtml(text),
          ),
        );
      } else {
        if (thickness < textLength + 2) return;
        const inside = length > VALUE_FONT + 10;
        const y = direction > 0 ? (inside ? end + VALUE_FONT + 3 : end - 4) : inside ? end - 5 : end + VALUE_FONT + 3;
        labels.push(
          el(
            'text',
            {
              class: 'value',
              x: start + thickness / 2,
              y,
              'font-size': VALUE_FONT,
              'text-anchor': 'middle',
              fill: inside && opacity > 0.6 ? '#fff' : '#333',
            },
            escapeHtml(text),
          ),
        );
      }
    });
  });
  return {
    svg: legend.svg + frame.svg + el('g', { class: 'series' }, ...bars, ...whiskers, ...labels),
    height,
    notes,
  };
}
