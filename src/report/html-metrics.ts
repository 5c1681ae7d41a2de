import { formatValue } from './format-number.ts';
import { escapeHtml } from './escape-html.ts';

/** Headline numbers as a grid of cards: name above, value large. */
export function renderMetrics(metrics: Record<string, unknown>): string {
  const cards = Object.entries(metrics).map(([name, value]) => {
    const shown = formatValue(value);
    const size = shown.length > 16 ? ' small' : shown.length > 9 ? ' medium' : '';
    const exact = typeof value === 'number' ? String(value) : shown;
    return `<div class="metric"><div class="name">${escapeHtml(name)}</div><div class="value${size}" title="${escapeHtml(exact)}">${escapeHtml(shown)}</div></div>`;
  });
  return `<div class="metrics">\n${cards.join('\n')}\n</div>`;
}
