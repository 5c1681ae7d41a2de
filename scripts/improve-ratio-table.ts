/**
 * The README's "Concept-targeted fine-tuning" table: `alignkit improve` runs that differ in
 * --general-ratio, side by side — the weakest concept, the others and all items before → after,
 * from each run's summary.json, with its duplicates removed and its concept classifier's accuracy.
 * Writes OUT/summary.json for `npm run readme -- --record improve-toy OUT "…"`.
 *
 *   node --import tsx scripts/improve-ratio-table.ts --out OUT RUN_DIR…
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { markdownTable } from '../src/report/markdown-table.ts';
import type { Summary, Table } from '../src/run/summary.ts';
import { writeTableSummary } from './table-script.ts';

const [flag, out, ...runDirs] = process.argv.slice(2);
if (flag !== '--out' || !out || !runDirs.length)
  throw new Error('usage: node --import tsx scripts/improve-ratio-table.ts --out OUT RUN_DIR…');

const readJson = (file: string) => JSON.parse(readFileSync(file, 'utf8'));
const pct = (x: unknown) => (typeof x === 'number' ? (Math.round(x * 10) / 10).toFixed(1) : '—');

const runs = runDirs
  .map((dir) => {
    const config = readJson(join(dir, 'config.json'));
    const summary = readJson(join(dir, 'summary.json')) as Summary;
    if (summary.kind !== 'improve') throw new Error(`${dir}/summary.json: not an improve run (kind ${summary.kind})`);
    return { dir, identity: config.identity as Record<string, unknown>, metrics: summary.metrics! };
  })
  .sort((a, b) => Number(a.identity['general-ratio']) - Number(b.identity['general-ratio']));

const { weakest, concepts } = runs[0].metrics;
const table: Table = {
  title: 'Before → after fine-tuning, by --general-ratio (accuracy %, evaluation part)',
  columns: [
    '`--general-ratio`',
    `weakest ${weakest === 1 ? 'concept' : `${weakest} concepts`}`,
    `other ${Number(concepts) - Number(weakest)} concepts`,
    'overall',
    'training examples',
    'duplicates of evaluation items removed',
    'concept classifier held out / majority baseline',
  ],
  rows: runs.map(({ identity, metrics: m }) => [
    String(identity['general-ratio']),
    `${pct(m.weakest_before)} → ${pct(m.weakest_after)}`,
    `${pct(m.rest_before)} → ${pct(m.rest_after)}`,
    `${pct(m.overall_before)} → ${pct(m.overall_after)}`,
    m.training_examples,
    m.duplicates_removed,
    `${pct(m.classifier_heldout_accuracy)} / ${pct(m.classifier_majority_baseline)}`,
  ]),
  note: `Runs: ${runs.map((r) => r.dir).join(', ')}.`,
};
console.log(markdownTable(table));
const summary: Summary = {
  kind: 'improve-ratio-table',
  title: 'Concept-targeted fine-tuning at several --general-ratio values',
  tables: [table],
  plots: [],
  runs: runs.map(({ dir, identity, metrics }) => ({ dir, identity, metrics })),
};
writeTableSummary(out, summary);
