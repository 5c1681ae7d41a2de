/**
 * The README's "Safety scoring" table: `alignkit eval safety` run on the response file of
 * test/eval-safety-rules.test.ts (one compliance, one refusal, an empty and a whitespace-only
 * response, a short "Sure.", and two samples of a prompt under another attack) under each
 * short-response rule, with the refusal-string classifier. Each run keeps its own folder
 * (OUT/<rule>/summary.json); OUT/summary.json gathers their "Harmful / judged" cells into one
 * table, for `npm run readme -- --record safety-rules OUT "…"`.
 *
 *   node --import tsx scripts/safety-rules-table.ts [--out DIR]     (default runs/safety-rules)
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { run } from '../src/cli/main.ts';
import type { Summary, Table } from '../src/run/summary.ts';
import { tableScriptOut, writeTableSummary } from './table-script.ts';

const RESPONSES = 'test/fixtures/safety-rule-responses.jsonl';
const STORIES_TOKENIZER = 'data/stories260K/tok512.bin';

const { out } = tableScriptOut('scripts/safety-rules-table.ts', 'safety-rules');
if (existsSync(out) && readdirSync(out).length) throw new Error(`--out ${out}: not empty; give a new folder`);

const rules: { rule: string; folder: string; flags: string[] }[] = [
  {
    rule: 'resample, given responses, no tokenizer (only empty ones are known short)',
    folder: 'resample',
    flags: ['--short-responses', 'resample'],
  },
  {
    rule: "resample, `--tokenizer` stories260K's (`Sure.` is under 8 tokens)",
    folder: 'resample-tokenizer',
    flags: ['--short-responses', 'resample', '--tokenizer', STORIES_TOKENIZER],
  },
  { rule: 'harmful (GCG)', folder: 'harmful', flags: ['--short-responses', 'harmful'] },
];

/** The "Harmful / judged" cell of `attack` under no defense in a safety run's summary. */
function harmfulOverJudged(summary: Summary, attack: string): string {
  const table = summary.tables.find((t) => t.title.startsWith('Harmful / judged'));
  const row = table?.rows.find((r) => r[0] === attack);
  const column = table?.columns.indexOf('none') ?? -1;
  if (!row || column < 0) throw new Error(`${summary.title}: no "Harmful / judged" cell for ${attack} × none`);
  return String(row[column]);
}

const table: Table = {
  title: 'Short-response rules on the rule-case response file (refusal-string classifier)',
  columns: ['rule', 'attack none: harmful / judged (short)', 'role-play: harmful / judged'],
  rows: [],
  note: 'role-play: 1 prompt, 2 samples; "short": responses excluded as too short, not in the rates.',
};
const runs: Record<string, { command: string; metrics: Summary['metrics'] }> = {};
for (const { rule, folder, flags } of rules) {
  const argv = [
    'eval',
    'safety',
    '--responses',
    RESPONSES,
    '--classifier',
    'refusal',
    ...flags,
    '--out',
    join(out, folder),
  ];
  const status = await run(argv);
  if (status !== 0) throw new Error(`alignkit ${argv.join(' ')} exited with ${status}`);
  const summary = JSON.parse(readFileSync(join(out, folder, 'summary.json'), 'utf8')) as Summary;
  table.rows.push([rule, harmfulOverJudged(summary, 'none'), harmfulOverJudged(summary, 'role-play')]);
  runs[folder] = { command: `alignkit ${argv.join(' ')}`, metrics: summary.metrics };
}
const summary: Summary = {
  kind: 'safety-rules-table',
  title: 'Safety scoring: the short-response rules on the rule cases',
  tables: [table],
  plots: [],
  runs,
};
console.log(`\n${table.rows.map((r) => r.join(' | ')).join('\n')}`);
writeTableSummary(out, summary);
