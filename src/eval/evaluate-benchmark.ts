/** The evaluation run around a benchmark: folder, lock and identity, judge cache, models, progress, summary and report. */
import { join } from 'node:path';
import { finishRun, type RunOutputs } from '../report/finish-run.ts';
import { RunSession } from '../run/run-session.ts';
import { resolveOptions, type OptionSpecs } from '../util/option-spec.ts';
import type { Benchmark, EvalRunOptions } from './benchmark.ts';
import { Judge, defaultJudgeSettings } from './judge.ts';
import { JudgeCache } from './judge-cache.ts';

export async function evaluateWith<S extends OptionSpecs, Input>(
  benchmark: Benchmark<S, Input>,
  options: EvalRunOptions,
): Promise<RunOutputs> {
  const settings = resolveOptions(benchmark.options, options.settings ?? {});
  const input = benchmark.load(options, settings);
  const command = `eval ${benchmark.name}`;
  const session = RunSession.open({
    ...options,
    command,
    models: { apiKeyEnv: options.apiKeyEnv, concurrency: options.concurrency },
  });
  try {
    const cache = new JudgeCache(options.cacheDir ?? join(options.out, 'judge-cache'));
    const judgeSettings = { ...defaultJudgeSettings, ...definedOnly(options.judgeSettings ?? {}) };
    const work = await benchmark.open(input, {
      options,
      settings,
      runDir: session.folder,
      // a judge is a remote or local chat model: only the evaluated model takes --tokenizer
      loadModel: (ref) => session.models.load(ref, options.tokenizer),
      loadJudge: async (ref) => new Judge(await session.models.load(ref), judgeSettings, cache),
      generation: (defaults) => ({ ...defaults, ...definedOnly(options.generation ?? {}) }),
      onProgress: (p) =>
        session.progress({
          done: p.done,
          total: p.total,
          note: p.failures ? `judge failures ${p.failures}` : undefined,
        }),
    });
    session.start({ benchmark: benchmark.name, settings, judgeCache: cache.dir });
    return finishRun(session.folder, await work());
  } finally {
    await session.close();
  }
}

const definedOnly = <T extends object>(o: T): Partial<T> =>
  Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
