/**
 * The README's LC win-rate table: for the synthetic preference sets of
 * test/fixtures/lc-winrate-official.json, the LC win rate implied by each set's generating
 * parameters next to alignkit's official fit (the richest variant the set supports, and the time
 * it took), the official reference value and alignkit's maximum-likelihood fit. Prints the table
 * and writes it to DIR/summary.json (default runs/lc-winrate) with the run's conditions, for
 * `npm run readme -- --record lc-winrate DIR "…"`.
 *
 *   node --import tsx scripts/lc-winrate-table.ts [--out DIR]
 */
import { rawWinRate } from '../src/eval/winrate/glm.ts';
import { lengthControlled } from '../src/eval/winrate/length-controlled.ts';
import { markdownTable } from '../src/report/markdown-table.ts';
import { finishConditions, startConditions } from '../src/run/measurement-conditions.ts';
import type { Summary, Table } from '../src/run/summary.ts';
import { tableScriptOut, writeTableSummary } from './table-script.ts';
import { comparisonsOf, gamedOf, lcFixture } from '../test/helpers/lc-fixture.ts';

const { args, out } = tableScriptOut('scripts/lc-winrate-table.ts', 'lc-winrate');
const conditions = startConditions('node', [...process.execArgv, 'scripts/lc-winrate-table.ts', ...args]);

const f2 = (x: number | null) => (x === null ? '—' : x.toFixed(2));
const table: Table = {
  title: 'Official fit against the official code, on synthetic preference sets',
  columns: [
    'set',
    'n',
    'raw win rate',
    'LC of the generating GLM',
    'official fit (variant, time here)',
    'official reference',
    '`--lc-fit mle`',
  ],
  rows: [],
};
for (const set of lcFixture.sets) {
  const comparisons = comparisonsOf(set);
  const gamed = gamedOf(set);
  const started = performance.now();
  const official = lengthControlled({ comparisons, gamed }, 'official');
  const ms = performance.now() - started;
  const mle = lengthControlled({ comparisons, gamed }, 'mle');
  const raw = rawWinRate(comparisons.flatMap((c) => (c.preference === null ? [] : [c.preference])));
  table.rows.push([
    set.name,
    set.preference.length,
    f2(raw.winRate),
    f2(set.generating.true_lc),
    `${f2(official.lcWinRate)} (${official.variant?.replace('length_controlled_', '')}, ${ms.toFixed(0)} ms)`,
    f2(set.official[official.variant!].lc),
    f2(mle.lcWinRate),
  ]);
}
console.log(markdownTable(table));
const summary: Summary = {
  kind: 'lc-winrate-table',
  title: 'Length-controlled win rate: alignkit against the official AlpacaEval 2.0 fit',
  tables: [table],
  plots: [],
  conditions: finishConditions(conditions),
};
writeTableSummary(out, summary);
