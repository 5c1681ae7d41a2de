import { REPORT_CSS } from './html-style.ts';
import { escapeHtml } from './escape-html.ts';

/** The collapsed configuration tables open before printing, so paper shows them too (raw JSON stays shut). */
const OPEN_DETAILS_FOR_PRINT = `addEventListener('beforeprint', function () { document.querySelectorAll('details.config').forEach(function (d) { d.open = true; }); });`;

/** A whole self-contained page: inline CSS, inline SVG, one tiny inline script, nothing fetched. */
export function htmlPage(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="alignkit report">
<link rel="icon" href="data:,">
<title>${escapeHtml(title)}</title>
<style>${REPORT_CSS}</style>
</head>
<body>
<main>
${body}
</main>
<script>${OPEN_DETAILS_FOR_PRINT}</script>
</body>
</html>
`;
}
