import { dirname, join, relative, resolve, sep } from 'node:path';
import { readRun } from './read-run.ts';
import { groupPlots, groupTables, metricsTable, configDifferences, type ComparedRun } from './merge-runs.ts';
import { SeriesColors } from './series-colors.ts';
import { htmlPage } from './html-page.ts';
import { renderTable } from './html-table.ts';
import { renderPlotFigure } from './html-plot.ts';
import { renderConfig } from './html-config.ts';
import { renderHeader, renderSections, FOOTER, type Section } from './html-sections.ts';
import { runFacts } from './run-meta.ts';
import { escapeHtml } from './escape-html.ts';
import { writeFileAtomic } from '../util/atomic-write.ts';
import { inputError } from '../errors.ts';

export type { ComparedRun } from './merge-runs.ts';

const withRun = (title: string, run: string) =>
  `${escapeHtml(title)} <span class="run-name">— ${escapeHtml(run)}</span>`;

function runCard(run: ComparedRun): string {
  const name = run.reportHref
    ? `<a href="${escapeHtml(run.reportHref)}">${escapeHtml(run.name)}</a>`
    : escapeHtml(run.name);
  const facts = runFacts(run.config)
    .map((f) => `<div class="note">${escapeHtml(f)}</div>`)
    .join('');
  return `<div class="run-card"><div class="name">${name}</div><div>${escapeHtml(run.summary.title)}</div><div class="note">${escapeHtml(run.summary.kind)}</div>${facts}</div>`;
}

/**
 * A page comparing runs side by side: their headline metrics in one table, same-titled plots
 * overlaid (or adjacent when they can't share axes), same-titled tables merged with a "run"
 * column (or adjacent), and the settings that differ.
 */
export function renderComparison(runs: ComparedRun[]): string {
  if (runs.length === 0) throw inputError('nothing to compare: give at least one run folder');
  const colors = new SeriesColors();
  const sections: Section[] = [
    { id: 'runs', heading: 'Runs', html: `<div class="runs">\n${runs.map(runCard).join('\n')}\n</div>` },
  ];

  const metrics = metricsTable(runs);
  if (metrics) sections.push({ id: 'metrics', heading: 'Headline metrics', html: renderTable(metrics) });

  const plotGroups = groupPlots(runs);
  if (plotGroups.length) {
    for (const v of plotGroups.flatMap((g) => g.variants ?? [])) colors.setVariant(v.name, v.key, v.variant);
    const figures = plotGroups.flatMap((g) =>
      g.overlay
        ? [renderPlotFigure(g.overlay, colors)]
        : g.separate.map((m) => renderPlotFigure(m.plot, colors, withRun(m.plot.title, m.run))),
    );
    sections.push({ id: 'plots', heading: 'Plots', html: `<div class="plots">\n${figures.join('\n')}\n</div>` });
  }

  const tableGroups = groupTables(runs);
  if (tableGroups.length) {
    const tables = tableGroups.flatMap((g) =>
      g.merged ? [renderTable(g.merged)] : g.separate.map((m) => renderTable(m.table, withRun(m.table.title, m.run))),
    );
    sections.push({ id: 'tables', heading: 'Tables', html: tables.join('\n') });
  }

  const differences = configDifferences(runs);
  const configs = runs.map((r) => `<h3>${escapeHtml(r.name)}</h3>${renderConfig(r.config)}`).join('\n');
  sections.push({
    id: 'configuration',
    heading: 'Configuration',
    html: `${differences ? renderTable(differences) : '<p class="note">The runs\' configurations are the same.</p>'}\n${configs}`,
  });

  const kinds = [...new Set(runs.map((r) => r.summary.kind))];
  const title = `Comparison of ${runs.length} run${runs.length === 1 ? '' : 's'}`;
  return htmlPage(
    `${title} — alignkit`,
    `${renderHeader(
      kinds.join(' · '),
      title,
      runs.map((r) => r.name),
      sections,
    )}\n${renderSections(sections)}\n${FOOTER}`,
  );
}

/** Names for the runs: folder names, or paths below their common folder when two folders share a name. */
export function runNames(dirs: string[]): string[] {
  const segments = dirs.map((d) => resolve(d).split(sep).filter(Boolean));
  const names = segments.map((s) => s[s.length - 1] ?? sep);
  if (new Set(names).size === names.length) return names;
  let common = 0;
  while (segments.every((s) => common < s.length - 1 && s[common] === segments[0][common])) common++;
  const relativeNames = segments.map((s) => s.slice(common).join('/'));
  return relativeNames.map((n, i) => (relativeNames.indexOf(n) === i ? n : `${n} (${i + 1})`));
}

/** Writes the comparison page of the run folders `dirs` to `out`, linking each run's report.html; returns `out`. */
export function writeComparison(dirs: string[], out: string): string {
  const names = runNames(dirs);
  const runs: ComparedRun[] = dirs.map((dir, i) => {
    const record = readRun(dir);
    const href = relative(dirname(resolve(out)), resolve(join(dir, 'report.html')))
      .split(sep)
      .map(encodeURIComponent)
      .join('/');
    return { name: names[i], summary: record.summary, config: record.config, reportHref: href };
  });
  writeFileAtomic(out, renderComparison(runs));
  return out;
}

/** Where the comparison goes by default: compare.html in the folder that holds the runs. */
export function defaultComparisonPath(dirs: string[]): string {
  const parents = [...new Set(dirs.map((d) => dirname(resolve(d))))];
  return join(parents.length === 1 ? parents[0] : process.cwd(), 'compare.html');
}
