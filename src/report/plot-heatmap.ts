import type { Plot } from '../run/summary.ts';
import type { PlotBody, PlotContext } from './plot-body.ts';
import { plural } from './plot-body.ts';
import { categoriesOf, valuesByCategory } from './plot-data.ts';
import { colorRamp, luminance } from './color-ramp.ts';
import { formatValue } from './format-number.ts';
import { escapeHtml } from './escape-html.ts';
import { el, label, textWidth, fitText } from './svg.ts';

const FONT = 12;
const CELL_FONT = 11;
const ROW_LABEL_MAX = 180;
const COLUMN_LABEL_MAX = 130;
const CELL_HEIGHT = 30;
const CELL_MAX_WIDTH = 110;
const RAMP_STEPS = 24;

/** A grid of coloured cells: one row per series, one column per category, each cell showing its value. */
export function renderHeatmap(plot: Plot, ctx: PlotContext): PlotBody | undefined {
  const columns = categoriesOf(plot.series);
  const values = plot.series.map((s) => valuesByCategory(s, columns));
  const finite = values.flat().filter(Number.isFinite);
  if (finite.length === 0) return undefined;
  const notes: string[] = [];
  const missing = values.flat().length - finite.length;
  if (missing) notes.push(`${plural(missing, 'cell')} without a value.`);

  let min = Math.min(...finite);
  let max = Math.max(...finite);
  if (plot.yRange) {
    min = Math.min(min, plot.yRange[0]);
    max = Math.max(max, plot.yRange[1]);
  }
  const color = colorRamp(min, max);

  const rowLabelWidth = Math.max(...plot.series.map((s) => textWidth(fitText(s.name, ROW_LABEL_MAX, FONT), FONT)));
  const left = 12 + rowLabelWidth + 10;
  const cellWidth = Math.min(CELL_MAX_WIDTH, (ctx.width - left - 16) / columns.length);
  const widestColumn = Math.max(...columns.map((c) => textWidth(c, FONT)));
  const rotate = widestColumn > cellWidth - 6;
  const columnLabelHeight = rotate
    ? 16 + Math.min(widestColumn, COLUMN_LABEL_MAX) * Math.sin((40 * Math.PI) / 180)
    : 22;
  const top = 44;
  const gridBottom = top + plot.series.length * CELL_HEIGHT;
  const height = gridBottom + columnLabelHeight + (plot.xLabel ? 24 : 4);

  const cells: string[] = [];
  values.forEach((row, r) => {
    const y = top + r * CELL_HEIGHT;
    cells.push(
      label(plot.series[r].name, ROW_LABEL_MAX, FONT, {
        x: left - 10,
        y: y + CELL_HEIGHT / 2 + 4,
        'text-anchor': 'end',
        fill: '#333',
      }),
    );
    row.forEach((v, c) => {
      const x = left + c * cellWidth;
      const fill = Number.isFinite(v) ? color(v) : '#f3f3f3';
      const text = Number.isFinite(v) ? formatValue(v) : '—';
      const tooltip = el(
        'title',
        {},
        escapeHtml(`${plot.series[r].name} × ${columns[c]}: ${formatValue(Number.isFinite(v) ? v : null)}`),
      );
      cells.push(
        el(
          'rect',
          { class: 'heat-cell', x: x + 0.5, y: y + 0.5, width: cellWidth - 1, height: CELL_HEIGHT - 1, fill },
          tooltip,
        ),
      );
      if (textWidth(text, CELL_FONT) <= cellWidth - 6) {
        cells.push(
          el(
            'text',
            {
              x: x + cellWidth / 2,
              y: y + CELL_HEIGHT / 2 + 4,
              'font-size': CELL_FONT,
              'text-anchor': 'middle',
              fill: luminance(fill) < 0.4 ? '#fff' : Number.isFinite(v) ? '#222' : '#999',
            },
            escapeHtml(text),
          ),
        );
      }
    });
  });
  columns.forEach((c, i) => {
    const cx = left + (i + 0.5) * cellWidth;
    cells.push(
      rotate
        ? label(c, COLUMN_LABEL_MAX, FONT, {
            x: cx + 4,
            y: gridBottom + 14,
            'text-anchor': 'end',
            fill: '#333',
            transform: `rotate(-40 ${(cx + 4).toFixed(2)} ${gridBottom + 14})`,
          })
        : label(c, cellWidth - 4, FONT, { x: cx, y: gridBottom + 18, 'text-anchor': 'middle', fill: '#333' }),
    );
  });
  const gridRight = left + columns.length * cellWidth;
  if (plot.xLabel)
    cells.push(
      label(plot.xLabel, gridRight - left, FONT, {
        x: (left + gridRight) / 2,
        y: height - 8,
        'text-anchor': 'middle',
        fill: '#333',
        'font-weight': 600,
      }),
    );

  const rampWidth = 160;
  const minText = formatValue(min);
  const maxText = formatValue(max);
  const rampLeft = Math.max(
    left + textWidth(minText, CELL_FONT) + 6,
    gridRight - rampWidth - textWidth(maxText, CELL_FONT) - 6,
  );
  const ramp: string[] = [];
  for (let i = 0; i < RAMP_STEPS; i++) {
    ramp.push(
      el('rect', {
        x: rampLeft + (i * rampWidth) / RAMP_STEPS,
        y: 14,
        width: rampWidth / RAMP_STEPS + 0.3,
        height: 10,
        fill: color(min + ((i + 0.5) / RAMP_STEPS) * (max - min)),
      }),
    );
  }
  ramp.push(
    el(
      'text',
      { x: rampLeft - 6, y: 23, 'font-size': CELL_FONT, 'text-anchor': 'end', fill: '#555' },
      escapeHtml(minText),
    ),
  );
  ramp.push(
    el('text', { x: rampLeft + rampWidth + 6, y: 23, 'font-size': CELL_FONT, fill: '#555' }, escapeHtml(maxText)),
  );
  if (plot.yLabel)
    ramp.push(
      label(plot.yLabel, Math.max(60, rampLeft - left - textWidth(minText, CELL_FONT) - 16), FONT, {
        x: left,
        y: 23,
        fill: '#333',
        'font-weight': 600,
      }),
    );
  return { svg: el('g', { class: 'color-scale' }, ...ramp) + el('g', { class: 'cells' }, ...cells), height, notes };
}
