import { FONT_STACK } from './svg-plots.ts';

/** The report's stylesheet, inlined into every page: light, print-friendly, no web fonts. */
export const REPORT_CSS = `
:root { --fg: #1f2328; --muted: #5b6570; --border: #d9dee3; --panel: #f6f8fa; --page: #f3f5f7; --accent: #3f6b96; }
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; }
body { margin: 0; background: var(--page); color: var(--fg); font: 15px/1.5 ${FONT_STACK}; }
main { max-width: 1280px; margin: 0 auto; padding: 28px 32px 40px; }
a { color: var(--accent); }
.report-header { background: #fff; border: 1px solid var(--border); border-radius: 10px; padding: 20px 24px; }
.kind { display: inline-block; font-size: 11.5px; font-weight: 600; letter-spacing: .06em; text-transform: uppercase; color: var(--accent); background: #e7eef6; border-radius: 999px; padding: 2px 10px; }
h1 { font-size: 26px; line-height: 1.25; margin: 10px 0 6px; overflow-wrap: anywhere; }
.meta { color: var(--muted); font-size: 13px; margin: 0; display: flex; flex-wrap: wrap; gap: 4px 18px; }
.meta span { overflow-wrap: anywhere; }
nav.toc { margin-top: 14px; font-size: 13px; display: flex; flex-wrap: wrap; gap: 6px 16px; }
nav.toc a { text-decoration: none; }
nav.toc a:hover { text-decoration: underline; }
section { margin-top: 30px; }
h2 { font-size: 18px; margin: 0 0 12px; padding-bottom: 6px; border-bottom: 2px solid var(--border); }
h3 { font-size: 15px; margin: 0 0 6px; overflow-wrap: anywhere; }
.metrics { display: grid; grid-template-columns: repeat(auto-fill, minmax(180px, 1fr)); gap: 12px; }
.metric { background: #fff; border: 1px solid var(--border); border-left: 4px solid var(--accent); border-radius: 8px; padding: 10px 14px; min-width: 0; }
.metric .name { font-size: 12.5px; color: var(--muted); overflow-wrap: anywhere; }
.metric .value { font-size: 23px; font-weight: 600; font-variant-numeric: tabular-nums; overflow-wrap: break-word; line-height: 1.3; }
.metric .value.medium { font-size: 18px; }
.metric .value.small { font-size: 15px; }
.card { background: #fff; border: 1px solid var(--border); border-radius: 8px; padding: 14px 18px; margin-bottom: 16px; }
.table-wrap { overflow-x: auto; }
table { border-collapse: collapse; font-size: 13.5px; font-variant-numeric: tabular-nums; min-width: 40%; }
th, td { padding: 6px 14px 6px 10px; border-bottom: 1px solid #e8ecef; text-align: left; vertical-align: top; max-width: 42em; overflow-wrap: anywhere; }
th { background: var(--panel); font-weight: 600; border-bottom: 1px solid var(--border); overflow-wrap: normal; }
th.num { text-align: right; }
td.num { text-align: right; white-space: nowrap; }
table.wide { font-size: 12.5px; }
table.wide th, table.wide td { padding: 5px 8px 5px 6px; }
td.missing { color: #9aa3ab; }
tbody tr:nth-child(even) td { background: #fafbfc; }
tbody tr:hover td { background: #eef3f8; }
.note { color: var(--muted); font-size: 13px; margin: 8px 0 0; }
.plots { display: grid; grid-template-columns: repeat(auto-fill, minmax(min(100%, 520px), 1fr)); gap: 16px; align-items: start; }
figure.plot { margin: 0; background: #fff; border: 1px solid var(--border); border-radius: 8px; padding: 14px 16px 12px; min-width: 0; }
figure.plot svg { display: block; width: 100%; height: auto; }
figure.plot .run-name { color: var(--muted); font-weight: 400; }
details > summary { cursor: pointer; font-weight: 600; }
details[open] > summary { margin-bottom: 10px; }
.config td.key { font-family: ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: 12.5px; white-space: nowrap; }
.config td.value { font-family: ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: 12.5px; white-space: pre-wrap; }
pre { background: var(--panel); border: 1px solid var(--border); border-radius: 6px; padding: 10px 12px; font-size: 12px; overflow-x: auto; white-space: pre-wrap; overflow-wrap: anywhere; }
.runs { display: grid; grid-template-columns: repeat(auto-fill, minmax(260px, 1fr)); gap: 12px; }
.run-card { background: #fff; border: 1px solid var(--border); border-radius: 8px; padding: 10px 14px; font-size: 13.5px; }
.run-card .name { font-weight: 600; overflow-wrap: anywhere; }
footer { margin-top: 40px; color: var(--muted); font-size: 12px; }
@media (max-width: 640px) { main { padding: 16px 12px; } }
@media print {
  body { background: #fff; font-size: 12px; }
  main { max-width: none; padding: 0; }
  nav.toc { display: none; }
  .report-header, .card, figure.plot, .metric, .run-card { border-color: #bbb; }
  .plots { display: block; }
  .table-wrap { overflow: visible; }
  table { width: 100%; font-size: 10.5px; }
  table.wide { font-size: 8px; }
  .card { padding: 8px 10px; }
  th, td { padding: 3px 5px; max-width: none; }
  table.wide th, table.wide td { padding: 2px 4px; }
  table.wide th { overflow-wrap: anywhere; hyphens: auto; }
  td:not(.num) { min-width: 7em; }
  figure.plot { max-width: 16cm; margin: 0 auto 12px; }
  figure.plot, .metric, tr, .card { break-inside: avoid; }
  h2 { break-after: avoid; }
  a { color: inherit; text-decoration: none; }
}
@page { margin: 14mm; }
`;
