import type { Table } from '../run/summary.ts';
import { formatValue } from './format-number.ts';
import { escapeHtml } from './escape-html.ts';

type Cell = string | number | null | undefined;

function isNumericColumn(rows: Cell[][], column: number): boolean {
  let numbers = 0;
  for (const row of rows) {
    const cell = row[column];
    if (typeof cell === 'number') numbers++;
    else if (cell !== null && cell !== undefined) return false;
  }
  return numbers > 0;
}

function renderCell(cell: Cell, numeric: boolean): string {
  const classes = [
    numeric || typeof cell === 'number' ? 'num' : '',
    cell === null || cell === undefined ? 'missing' : '',
  ]
    .filter(Boolean)
    .join(' ');
  return `<td${classes ? ` class="${classes}"` : ''}>${escapeHtml(formatValue(cell))}</td>`;
}

/** Tables with more columns than this get a narrower layout (smaller type, tighter cells). */
const WIDE_FROM_COLUMNS = 8;

/**
 * A table with numeric columns right-aligned and formatted, missing cells as "—", in a card with
 * its title and note. Headers and text cells wrap, so a wide table keeps every column readable
 * (on screen it scrolls sideways only when even wrapped it cannot fit; in print it always fits).
 */
export function renderTable(table: Table, heading = escapeHtml(table.title)): string {
  const width = Math.max(table.columns.length, ...table.rows.map((r) => r.length));
  const columns = Array.from({ length: width }, (_, i) => table.columns[i] ?? '');
  const numeric = columns.map((_, i) => isNumericColumn(table.rows, i));
  const head = columns
    .map((c, i) => `<th${numeric[i] ? ' class="num"' : ''} scope="col">${escapeHtml(c)}</th>`)
    .join('');
  const body = table.rows.length
    ? table.rows.map((row) => `<tr>${columns.map((_, i) => renderCell(row[i], numeric[i])).join('')}</tr>`).join('\n')
    : `<tr><td class="missing" colspan="${Math.max(1, width)}">no rows</td></tr>`;
  const note = table.note ? `<p class="note">${escapeHtml(table.note)}</p>` : '';
  const wide = width > WIDE_FROM_COLUMNS ? ' class="wide"' : '';
  return `<div class="card"><h3>${heading}</h3><div class="table-wrap"><table${wide}>
<thead><tr>${head}</tr></thead>
<tbody>
${body}
</tbody></table></div>${note}</div>`;
}
