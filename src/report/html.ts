import type { Summary } from '../run/summary.ts';
import { SeriesColors } from './series-colors.ts';
import { htmlPage } from './html-page.ts';
import { renderMetrics } from './html-metrics.ts';
import { renderTable } from './html-table.ts';
import { renderPlotFigure } from './html-plot.ts';
import { renderConfig, rawJson } from './html-config.ts';
import { renderHeader, renderSections, FOOTER, type Section } from './html-sections.ts';
import { runFacts } from './run-meta.ts';
import { plural } from './plot-body.ts';

export interface ReportOptions {
  /** the run folder's name, shown under the title */
  runName?: string;
}

const SUMMARY_KEYS = new Set(['kind', 'title', 'metrics', 'tables', 'plots', 'leadTables', 'readmeTables']);

/**
 * A run's report as one self-contained HTML page: headline metrics, every table, every plot
 * (inline SVG), the resolved configuration (collapsed) and any other summary fields.
 */
export function renderReport(summary: Summary, config?: Record<string, unknown>, options: ReportOptions = {}): string {
  const colors = new SeriesColors();
  const sections: Section[] = [];
  if (summary.metrics && Object.keys(summary.metrics).length)
    sections.push({ id: 'metrics', heading: 'Headline metrics', html: renderMetrics(summary.metrics) });
  // a command may put its first tables (e.g. example responses) before the plots; the rest follow them
  const lead = summary.tables.slice(0, summary.leadTables ?? 0);
  const rest = summary.tables.slice(lead.length);
  const tableSection = (id: string, tables: Summary['tables']): Section => ({
    id,
    heading: tables.length === 1 ? 'Table' : 'Tables',
    html: tables.map((t) => renderTable(t)).join('\n'),
  });
  if (lead.length)
    sections.push({ ...tableSection('first', lead), heading: lead.length === 1 ? lead[0].title : 'First' });
  if (rest.length && !lead.length) sections.push(tableSection('tables', rest));
  if (summary.plots.length)
    sections.push({
      id: 'plots',
      heading: summary.plots.length === 1 ? 'Plot' : 'Plots',
      html: `<div class="plots">\n${summary.plots.map((p) => renderPlotFigure(p, colors)).join('\n')}\n</div>`,
    });
  if (rest.length && lead.length) sections.push(tableSection('tables', rest));
  sections.push({ id: 'configuration', heading: 'Configuration', html: renderConfig(config) });
  const extra = Object.fromEntries(Object.entries(summary).filter(([k]) => !SUMMARY_KEYS.has(k)));
  if (Object.keys(extra).length)
    sections.push({
      id: 'other',
      heading: 'Other summary fields',
      html: `<div class="card">${rawJson(`${plural(Object.keys(extra).length, 'more field')} in summary.json`, extra)}</div>`,
    });

  const facts = [...(options.runName ? [`run ${options.runName}`] : []), ...runFacts(config)];
  return htmlPage(
    `${summary.title} — alignkit`,
    `${renderHeader(summary.kind, summary.title, facts, sections)}\n${renderSections(sections)}\n${FOOTER}`,
  );
}
