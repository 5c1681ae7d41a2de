/**
 * The README's "contrib and quantized graphs" figures, measured as
 * test/models-contrib-step.test.ts measures them (test/helpers/contrib-agreement.ts): the contrib
 * step graph with float32, 8-bit and 4-bit weights against the float32 standard graph on
 * stories260K, at every position of its 200-token greedy story (teacher-forced). Writes
 * DIR/summary.json (default runs/contrib-graphs) for
 * `npm run readme -- --record contrib-graphs DIR "…"`.
 *
 *   node --import tsx scripts/contrib-graphs-table.ts [--out DIR]
 */
import { markdownTable } from '../src/report/markdown-table.ts';
import { finishConditions, startConditions } from '../src/run/measurement-conditions.ts';
import type { Summary, Table } from '../src/run/summary.ts';
import { tableScriptOut, writeTableSummary } from './table-script.ts';
import { contribAgreement, STORY, STORY_TOKENS } from '../test/helpers/contrib-agreement.ts';

const { args, out } = tableScriptOut('scripts/contrib-graphs-table.ts', 'contrib-graphs');
const conditions = startConditions('node', [...process.execArgv, 'scripts/contrib-graphs-table.ts', ...args]);

const e = (x: number) => (x < 0.1 ? x.toExponential(1) : x.toFixed(2));
const agreement = await contribAgreement();
const table: Table = {
  title: `Contrib and quantized graphs against the float32 standard graph: stories260K, every position of a ${STORY_TOKENS}-token story`,
  columns: ['graph', 'mean |Δ log p|', 'max |Δ log p|', 'greedy token agrees'],
  rows: [...agreement].map(([name, a]) => [name, e(a.meanDelta), e(a.maxDelta), `${a.sameGreedy} of ${a.positions}`]),
  note: `Teacher-forced: one prefill over the first ${STORY_TOKENS} tokens of \`${STORY}\`; |Δ log p| of the story's next token and the argmax at each position, against the standard-domain graph with float32 weights. Quantized: every linear layer but the LM head.`,
};
console.log(markdownTable(table));
const summary: Summary = {
  kind: 'contrib-graphs-table',
  title: 'Contrib and quantized inference graphs against the float32 standard graph',
  tables: [table],
  plots: [],
  conditions: finishConditions(conditions),
};
writeTableSummary(out, summary);
