/** A summary table as a GitHub-flavoured Markdown table: the same cells the terminal prints (rounded in the table). */
import type { Table } from '../run/summary.ts';

const cell = (v: string | number | null) => (v === null ? '—' : String(v)).replaceAll('|', '\\|').replaceAll('\n', ' ');

export function markdownTable(table: Table): string {
  return [
    `| ${table.columns.map(cell).join(' | ')} |`,
    `| ${table.columns.map(() => '---').join(' | ')} |`,
    ...table.rows.map((r) => `| ${r.map(cell).join(' | ')} |`),
  ].join('\n');
}
