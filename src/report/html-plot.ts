import type { Plot } from '../run/summary.ts';
import type { SeriesColors } from './series-colors.ts';
import { renderPlotSvg } from './svg-plots.ts';
import { escapeHtml } from './escape-html.ts';

/** A plot in a figure card: its title, the SVG, and notes (the plot's own and what was skipped). */
export function renderPlotFigure(plot: Plot, colors: SeriesColors, heading = escapeHtml(plot.title)): string {
  const { svg, notes } = renderPlotSvg(plot, colors);
  const allNotes = [plot.note, ...notes].filter((n): n is string => Boolean(n));
  const noteHtml = allNotes.map((n) => `<p class="note">${escapeHtml(n)}</p>`).join('');
  return `<figure class="plot"><h3>${heading}</h3>${svg}${noteHtml}</figure>`;
}
