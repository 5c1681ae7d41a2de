import { escapeHtml } from './escape-html.ts';

export interface Section {
  id: string;
  heading: string;
  html: string;
}

/** Links to the page's sections, shown in the header when there is more than one. */
export function renderToc(sections: Section[]): string {
  return sections.length > 1
    ? `<nav class="toc">${sections.map((s) => `<a href="#${s.id}">${escapeHtml(s.heading)}</a>`).join('')}</nav>`
    : '';
}

export function renderSections(sections: Section[]): string {
  return sections
    .map((s) => `<section id="${s.id}">\n<h2>${escapeHtml(s.heading)}</h2>\n${s.html}\n</section>`)
    .join('\n');
}

/** The page header: a kind badge, the title, a line of facts, the section links. */
export function renderHeader(kind: string, title: string, facts: string[], sections: Section[]): string {
  return `<header class="report-header">
<span class="kind">${escapeHtml(kind)}</span>
<h1>${escapeHtml(title)}</h1>
<p class="meta">${facts.map((f) => `<span>${escapeHtml(f)}</span>`).join('')}</p>
${renderToc(sections)}
</header>`;
}

export const FOOTER =
  '<footer>Rendered by <code>alignkit report</code> from summary.json and config.json. Self-contained: opens without network access.</footer>';
