import type { Plot } from '../run/summary.ts';
import type { PlotBody, PlotContext } from './plot-body.ts';
import { renderXY } from './plot-xy.ts';
import { renderBar } from './plot-bar.ts';
import { renderRadar } from './plot-radar.ts';
import { renderHeatmap } from './plot-heatmap.ts';
import { SeriesColors } from './series-colors.ts';
import { escapeHtml } from './escape-html.ts';
import { el } from './svg.ts';

export const PLOT_WIDTH = 640;
export const FONT_STACK =
  'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, "Liberation Sans", "DejaVu Sans", sans-serif';

const renderers: Record<Plot['type'], (plot: Plot, ctx: PlotContext) => PlotBody | undefined> = {
  line: renderXY,
  scatter: renderXY,
  bar: renderBar,
  radar: renderRadar,
  heatmap: renderHeatmap,
};

function noData(width: number): PlotBody {
  const height = 180;
  const svg =
    el('rect', {
      x: 1,
      y: 1,
      width: width - 2,
      height: height - 2,
      rx: 6,
      fill: '#fafafa',
      stroke: '#e0e0e0',
      'stroke-dasharray': '4 4',
    }) +
    el(
      'text',
      { x: width / 2, y: height / 2 + 5, 'font-size': 14, 'text-anchor': 'middle', fill: '#888' },
      'No data to plot',
    );
  return { svg, height, notes: [] };
}

/**
 * A plot as a standalone inline SVG (scales with its container) plus notes for its caption.
 * Series colours come from `colors`, shared by all plots of a page.
 */
export function renderPlotSvg(
  plot: Plot,
  colors = new SeriesColors(),
  width = PLOT_WIDTH,
): { svg: string; notes: string[] } {
  const body = renderers[plot.type]?.(plot, { width, colors }) ?? noData(width);
  const svg = el(
    'svg',
    {
      xmlns: 'http://www.w3.org/2000/svg',
      class: `chart chart-${plot.type}`,
      viewBox: `0 0 ${width} ${Math.ceil(body.height)}`,
      width: '100%',
      role: 'img',
      'aria-label': plot.title,
      'font-family': FONT_STACK,
    },
    el('title', {}, escapeHtml(plot.title)),
    body.svg,
  );
  return { svg, notes: body.notes };
}
