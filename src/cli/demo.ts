/** `alignkit demo` (also `npm start`): the main job on the embedded models. */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { command } from './command-spec.ts';
import { formatTable } from './run-output.ts';

const EMBEDDED = fileURLToPath(new URL('../../embedded', import.meta.url));

function unusedDirectory(base: string): string {
  let path = base;
  for (let n = 2; existsSync(path); n++) path = `${base}-${n}`;
  return path;
}

export const demoCommand = command({
  name: 'demo',
  summary: 'the main job on the embedded models',
  description:
    "The controlled-sentiment experiment of the weak-to-strong search paper in miniature, on the embedded models (stories260K steered by a small model trained on its samples): in each of --draws independent draws of prompts and seeds, DPO-tune the small model and fit a value model (cached after the first run), then steer the large model with them — plain sampling, Best-of-N, EFT, weak-to-strong search and IVG at matched compute, Best-of-N and W2S also at 4 and 64 samples — print each method's gold reward as mean ± standard error over the draws, and write the report (example responses side by side, reward vs compute, reward vs closeness). One onnxruntime thread unless ALIGNKIT_THREADS is set, so runs print the same tables. Without --out, a repeated run writes runs/demo-2, -3, ….",
  examples: ['demo', 'demo --draws 2 --prompts 8 --out runs/demo-small'],
  options: {
    out: {
      type: 'string',
      placeholder: 'DIR',
      identity: false,
      description: 'run folder (default runs/demo, or the next unused runs/demo-N)',
    },
    resume: { type: 'boolean', identity: false, description: 'continue the run in --out (default runs/demo)' },
    embedded: {
      type: 'string',
      placeholder: 'DIR',
      description: "the embedded models folder (default: alignkit's embedded/)",
    },
    cacheDir: {
      type: 'string',
      placeholder: 'DIR',
      identity: false,
      description: 'where the tuned small models are cached (default: the user cache folder)',
    },
    prompts: { type: 'integer', min: 1, description: 'held-out prompts per draw (default 16)' },
    draws: {
      type: 'integer',
      min: 1,
      description: 'independent draws of prompts and seeds, each with its own tuned small model (default 4)',
    },
    maxNewTokens: { type: 'integer', min: 1, description: 'response length (default 32)' },
    seed: { type: 'integer', description: 'prompt sampling and steering seed (default 1)' },
  },
  async run(values, context) {
    // one intra-op thread: the same table on every run (multi-threaded reductions may round differently)
    process.env.ALIGNKIT_THREADS ??= '1';
    const { DEFAULT_MAIN_JOB, runMainJob } = await import('../demo/main-job.ts');
    const { printedTables } = await import('../demo/main-job-summary.ts');
    const { defaultCacheDir } = await import('../util/cache-dir.ts');
    const out = values.out ?? (values.resume ? join('runs', 'demo') : unusedDirectory(join('runs', 'demo')));
    const started = performance.now();
    const result = await runMainJob({
      ...DEFAULT_MAIN_JOB,
      embeddedDir: values.embedded ?? EMBEDDED,
      cacheDir: values.cacheDir ?? defaultCacheDir('demo'),
      outDir: out,
      resume: values.resume,
      identity: context.identity,
      testPrompts: values.prompts ?? DEFAULT_MAIN_JOB.testPrompts,
      draws: values.draws ?? DEFAULT_MAIN_JOB.draws,
      maxNewTokens: values.maxNewTokens ?? DEFAULT_MAIN_JOB.maxNewTokens,
      seed: values.seed ?? DEFAULT_MAIN_JOB.seed,
      onProgress: (stage, done, total, note) => context.progress.update({ stage, done, total, note }),
    });
    context.progress.stop();
    for (const table of printedTables(result.summary)) console.log('\n' + formatTable(table));
    const cached = result.tuned.filter((t) => t.stats.cached).length;
    console.log(
      `\nsmall models: ${cached === result.tuned.length ? 'all from cache' : `${result.tuned.length - cached} of ${result.tuned.length} tuned now, the rest from cache`}; finished in ${((performance.now() - started) / 1000).toFixed(0)} s; report: ${join(out, 'report.html')}`,
    );
    return 0;
  },
});
