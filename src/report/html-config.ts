import { flatten, showValue } from './flatten.ts';
import { escapeHtml } from './escape-html.ts';

const RAW_LIMIT = 200_000;

/** A JSON value in a collapsed block, cut (and saying so) past RAW_LIMIT characters. */
export function rawJson(summaryLabel: string, value: unknown): string {
  const text = JSON.stringify(value, null, 2) ?? 'undefined';
  const shown =
    text.length > RAW_LIMIT
      ? `${text.slice(0, RAW_LIMIT)}\n… (${text.length - RAW_LIMIT} more characters in the file)`
      : text;
  return `<details><summary>${escapeHtml(summaryLabel)}</summary><pre>${escapeHtml(shown)}</pre></details>`;
}

/** The resolved configuration: collapsed, as a key/value table, with the raw JSON beneath. */
export function renderConfig(config: Record<string, unknown> | undefined): string {
  if (!config) return '<p class="note">No config.json in the run folder: the configuration is not known.</p>';
  const entries = flatten(config);
  const rows = entries
    .map(([k, v]) => `<tr><td class="key">${escapeHtml(k)}</td><td class="value">${escapeHtml(showValue(v))}</td></tr>`)
    .join('\n');
  return `<details class="card config"><summary>Configuration (${entries.length} settings)</summary><div class="table-wrap"><table>
<thead><tr><th scope="col">key</th><th scope="col">value</th></tr></thead>
<tbody>
${rows}
</tbody></table></div>
${rawJson('config.json', config)}</details>`;
}
