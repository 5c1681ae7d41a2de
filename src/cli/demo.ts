import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseFlags, intFlag } from './args.ts';
import { formatTable } from './run-output.ts';
import { DEFAULT_MAIN_JOB, runMainJob } from '../demo/main-job.ts';
import { defaultCacheDir } from '../util/cache-dir.ts';
import { stageProgressRenderer } from './stage-progress.ts';

const EMBEDDED = fileURLToPath(new URL('../../embedded', import.meta.url));

/** The main job on the embedded models (also `npm start`). */
export async function run(argv: string[]): Promise<number> {
  const { values } = parseFlags(argv, {
    out: { type: 'string' },
    embedded: { type: 'string' },
    'cache-dir': { type: 'string' },
    resume: { type: 'boolean' },
    prompts: { type: 'string' },
    'max-new-tokens': { type: 'string' },
    seed: { type: 'string' },
  });
  // without --out, a repeated `npm start` writes runs/demo-2, -3, … rather than refusing to touch runs/demo
  const out = values.out ?? (values.resume ? join('runs', 'demo') : unusedDirectory(join('runs', 'demo')));
  const progress = stageProgressRenderer('demo');
  const started = performance.now();
  const result = await runMainJob({
    ...DEFAULT_MAIN_JOB,
    embeddedDir: values.embedded ?? EMBEDDED,
    cacheDir: values['cache-dir'] ?? defaultCacheDir('demo'),
    outDir: out,
    resume: values.resume ?? false,
    testPrompts: intFlag(values, 'prompts', DEFAULT_MAIN_JOB.testPrompts),
    maxNewTokens: intFlag(values, 'max-new-tokens', DEFAULT_MAIN_JOB.maxNewTokens),
    seed: intFlag(values, 'seed', DEFAULT_MAIN_JOB.seed),
    onProgress: (stage, done, total, note) => progress.update({ stage, done, total, note }),
  });
  progress.stop();
  for (const table of result.summary.tables.slice(0, 2)) console.log('\n' + formatTable(table));
  console.log(
    `\nfinished in ${((performance.now() - started) / 1000).toFixed(0)} s; report: ${join(out, 'report.html')}`,
  );
  return 0;
}

function unusedDirectory(base: string): string {
  let path = base;
  for (let n = 2; existsSync(path); n++) path = `${base}-${n}`;
  return path;
}
