/**
 * What moves the main job's ordering: EFT and IVG at several β, weak-to-strong search and IVG at
 * several chunk lengths L, on the same draws, tuned models (from the demo cache) and seeds as
 * `npm start` (arguments: [OUT [CACHE_DIR]]; default runs/main-job-ablations and the demo's cache).
 * Writes OUT/summary.json and OUT/report.html;
 * `npm run readme -- --record main-job-ablations OUT "node --import tsx scripts/main-job-ablations.ts"`
 * puts the table in the README.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_MAIN_JOB, runMainJob, type MainJobOptions } from '../src/demo/main-job.ts';
import { methodFigures, methodLabel } from '../src/demo/main-job-summary.ts';
import { defaultCacheDir } from '../src/util/cache-dir.ts';
import { RunDir } from '../src/run/run-dir.ts';
import { finishRun } from '../src/report/finish-run.ts';

process.env.ALIGNKIT_THREADS ??= '1';
const root = join(import.meta.dirname, '..');
const out = process.argv[2] ?? join(root, 'runs', 'main-job-ablations');
const base = DEFAULT_MAIN_JOB;
const variants: { setting: string; only: string[]; search: Partial<MainJobOptions['search']> }[] = [
  ...[0.5, 1, 2, 4].map((beta) => ({ setting: `β = ${beta}`, only: ['eft', 'ivg'], search: { beta } })),
  ...[2, 4, 8].map((chunkLength) => ({ setting: `L = ${chunkLength}`, only: ['w2s', 'ivg'], search: { chunkLength } })),
];

const round = (x: number, digits = 3) => (Number.isFinite(x) ? Number(x.toFixed(digits)) : null);
const rows: (string | number | null)[][] = [];
const started = Date.now();
for (const v of variants) {
  const o: MainJobOptions = {
    ...base,
    search: { ...base.search, ...v.search },
    budgets: [],
    only: v.only,
    embeddedDir: join(root, 'embedded'),
    cacheDir: process.argv[3] ?? defaultCacheDir('demo'),
    outDir: join(out, 'variants', v.setting.replace(/[^\w.]+/g, '')),
    resume: false,
  };
  rmSync(o.outDir, { recursive: true, force: true });
  const result = await runMainJob(o);
  const matched = o.search.beams * o.search.successors;
  for (const method of v.only) {
    const f = methodFigures(result.rows, method, method === 'eft' ? 1 : matched);
    rows.push([
      v.setting,
      methodLabel(method, f.budget, o),
      round(f.gold),
      round(f.goldError),
      round(f.baseLogprob, 2),
    ]);
  }
  console.log(`[${((Date.now() - started) / 1000).toFixed(0)} s] ${v.setting} done`);
}
const run = RunDir.create(out, { overwrite: true });
run.writeConfig({ command: 'main-job ablations', ...base, variants });
finishRun(run, {
  kind: 'main-job ablations',
  title: "What moves the main job's ordering: β of EFT and IVG, chunk length L of the searches",
  tables: [
    {
      title: `β and chunk length, on the main job's ${base.draws} draws × ${base.testPrompts} test prompts (W ${base.search.beams}, K ${base.search.successors}; mean over draws ± standard error)`,
      columns: ['setting', 'method', 'gold reward (VADER)', '± s.e.', 'log p under the base / token'],
      rows,
    },
  ],
  plots: [],
});
console.log(`wrote ${out}/summary.json in ${((Date.now() - started) / 1000).toFixed(0)} s`);
