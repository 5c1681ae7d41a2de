/**
 * The README's "GGUF, checked against llama.cpp" figures, measured as
 * test/models-gguf-llama-cpp.test.ts measures them (test/helpers/llama-cpp-agreement.ts): for
 * the GGUF exports of stories260K and the embedded models at f32 / q8_0 / q4_0, how far
 * alignkit's next-token log-probs are from llama.cpp's along llama.cpp's greedy path, and the
 * mean NLL of the TinyStories sample under stories260K's files (the first 200 paragraphs and the
 * whole sample). Writes DIR/summary.json (default runs/gguf-llama-cpp) for
 * `npm run readme -- --record gguf-llama-cpp DIR "…"`. Needs node-llama-cpp (a dev dependency).
 *
 *   node --import tsx scripts/gguf-llama-cpp-table.ts [--out DIR]
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadNativeModel } from '../src/lm/load.ts';
import { markdownTable } from '../src/report/markdown-table.ts';
import { finishConditions, startConditions } from '../src/run/measurement-conditions.ts';
import type { Summary, Table } from '../src/run/summary.ts';
import { tableScriptOut, writeTableSummary } from './table-script.ts';
import {
  GGUF_PRECISIONS,
  GGUF_SOURCES,
  agreement,
  cpuLlama,
  exportGgufFiles,
  importLlamaCpp,
  meanNll,
  openLlamaCpp,
  tinyStoriesParagraphs,
} from '../test/helpers/llama-cpp-agreement.ts';

const { args, out } = tableScriptOut('scripts/gguf-llama-cpp-table.ts', 'gguf-llama-cpp');
const llamaCpp = await importLlamaCpp();
if (!llamaCpp) throw new Error('node-llama-cpp is not installed (a dev dependency: npm ci installs it)');
const conditions = startConditions('node', [...process.execArgv, 'scripts/gguf-llama-cpp-table.ts', ...args]);

const e = (x: number) => (x < 0.1 ? x.toExponential(1) : x.toFixed(2));
const dir = mkdtempSync(join(tmpdir(), 'alignkit-gguf-table-'));
const llama = await cpuLlama(llamaCpp);
try {
  const files = exportGgufFiles(dir);
  const agreementTable: Table = {
    title:
      "Log-prob difference |Δ log p| of llama.cpp's top-5 tokens along its 40-token greedy path (after the prompt)",
    columns: [
      'file',
      ...GGUF_PRECISIONS.map((p) => `${p} mean / max`),
      `argmax agreement (${GGUF_PRECISIONS.join(', ')})`,
    ],
    rows: [],
    note: 'llama.cpp: 1 thread, float32 KV cache, no flash attention; alignkit runs the q8_0 / q4_0 files quantized (int8 arithmetic).',
  };
  for (const name of Object.keys(GGUF_SOURCES)) {
    const cells: string[] = [];
    const argmax: string[] = [];
    for (const precision of GGUF_PRECISIONS) {
      const file = files.get(`${name} ${precision}`)!;
      const ours = await loadNativeModel(file);
      const theirs = await openLlamaCpp(llama, file);
      try {
        const a = await agreement(ours, theirs);
        cells.push(`${e(a.meanDelta)} / ${e(a.maxDelta)}`);
        argmax.push(`${a.sameArgmax}/${a.positions}`);
      } finally {
        await theirs.dispose();
        await ours.dispose();
      }
    }
    agreementTable.rows.push([
      name === 'embedded/large' ? 'embedded/large (= stories260K)' : name,
      ...cells,
      argmax.join(', '),
    ]);
    console.log(markdownTable({ ...agreementTable, rows: agreementTable.rows.slice(-1) }));
  }

  const nllTable: Table = {
    title:
      'Mean NLL (nats/token) of TinyStories-sample paragraphs under stories260K, computed by alignkit on each file',
    columns: [
      'paragraphs (each cut at 255 tokens)',
      ...GGUF_PRECISIONS.map((p) => (p === 'f32' ? p : `${p} (change)`)),
    ],
    rows: [],
  };
  const paragraphs = tinyStoriesParagraphs();
  for (const set of [paragraphs.slice(0, 200), paragraphs]) {
    const nll: number[] = [];
    for (const precision of GGUF_PRECISIONS) nll.push(await meanNll(files.get(`stories260K ${precision}`)!, set));
    const change = (x: number) => `${((x / nll[0] - 1) * 100).toFixed(2)} %`;
    nllTable.rows.push([
      set.length === paragraphs.length ? `all ${set.length}` : `first ${set.length}`,
      nll[0].toFixed(4),
      ...nll.slice(1).map((x) => `${x.toFixed(4)} (${change(x)})`),
    ]);
    console.log(markdownTable({ ...nllTable, rows: nllTable.rows.slice(-1) }));
  }

  // its package.json is not among the files it exports
  const llamaCppPackage = new URL('../node_modules/node-llama-cpp/package.json', import.meta.url);
  const summary: Summary = {
    kind: 'gguf-llama-cpp-table',
    title: 'GGUF exports: alignkit against llama.cpp on the same files',
    tables: [agreementTable, nllTable],
    plots: [],
    conditions: finishConditions({
      ...conditions,
      versions: { ...conditions.versions, 'node-llama-cpp': JSON.parse(readFileSync(llamaCppPackage, 'utf8')).version },
    }),
  };
  writeTableSummary(out, summary);
} finally {
  await llama.dispose();
  rmSync(dir, { recursive: true, force: true });
}
