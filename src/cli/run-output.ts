/** How commands print: tables, a finished run's headline numbers, and plain lines. */
import { join } from 'node:path';
import type { RunOutputs } from '../report/finish-run.ts';
import type { Table } from '../run/summary.ts';
import { formatValue } from '../report/format-number.ts';

function formatCell(v: string | number | null): string {
  return v === null ? '—' : String(v);
}

const MAX_PRINTED_ROWS = 25;

export function formatTable(table: Table): string {
  const rows = table.rows.slice(0, MAX_PRINTED_ROWS).map((r) => r.map(formatCell));
  const widths = table.columns.map((c, i) => Math.max(c.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (typeof table.rows[0]?.[i] === 'number' ? c.padStart(widths[i]) : c.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  const out = [table.title, line(table.columns), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)];
  if (table.rows.length > MAX_PRINTED_ROWS)
    out.push(`… ${table.rows.length - MAX_PRINTED_ROWS} more rows in summary.json / report.html`);
  if (table.note) out.push(table.note);
  return out.join('\n');
}

export function printLines(lines: readonly string[]): void {
  console.log(lines.join('\n'));
}

/** Prints a finished run's title, metrics, tables and where its files are. */
export function printRunEnd(run: RunOutputs, listed: 'results.jsonl' | 'summary.json' = 'results.jsonl'): void {
  const { summary } = run;
  console.log(`\n${summary.title}`);
  if (summary.metrics)
    console.log(
      Object.entries(summary.metrics)
        .map(([k, v]) => `  ${k}: ${formatValue(v)}`)
        .join('\n'),
    );
  for (const table of summary.tables) console.log(`\n${formatTable(table)}`);
  console.log(
    `\n${listed === 'results.jsonl' ? 'results' : 'summary'}: ${join(run.dir, listed)}\nreport: ${run.reportPath}`,
  );
}
