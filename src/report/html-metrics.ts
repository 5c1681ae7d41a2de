import { formatValue } from './format-number.ts';
import { escapeHtml } from './escape-html.ts';

/** Headline numbers as a grid of cards: name above, value large. */
export function renderMetrics(metrics: Record<string, unknown>): string {
  const cards = Object.entries(metrics).map(([name, value]) =>
    `<div class="metric"><div class="name">${escapeHtml(name)}</div><div class="value" title="${escapeHtml(typeof value === 'number' ? String(value) : formatValue(value))}">${escapeHtml(formatValue(value))}</div></div>`);
  return `<div class="metrics">\n${cards.join('\n')}\n</div>`;
}
