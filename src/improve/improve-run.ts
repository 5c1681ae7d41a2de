/**
 * `alignkit improve` as a run: the benchmark read and checked, the run folder taken (lock, resume
 * identity), the teacher loaded once, the staged loop (run-improve.ts) run with progress, the
 * report rendered.
 */
import { inputError } from '../errors.ts';
import { loadModel } from '../lm/load.ts';
import { finishRun, type RunOutputs } from '../report/finish-run.ts';
import { RunSession, type RunTarget } from '../run/run-session.ts';
import { loadConceptBenchmark, type BenchmarkSelection } from '../eval/concepts/concept-benchmark.ts';
import { runImprove, type ImproveOptions, type ImproveResult } from './run-improve.ts';

export interface ImproveRunOptions
  extends RunTarget, Omit<ImproveOptions, 'openModel' | 'benchmark' | 'teacher' | 'runDir' | 'resume' | 'onProgress'> {
  /** the concept-labelled benchmark: ConceptMath (with its data folder) or files in its format */
  benchmark: BenchmarkSelection;
  /** a model that writes new problems for the weakest concepts (local path or BASE_URL#MODEL) */
  teacher?: string;
  /** tokenizer of the local --model */
  tokenizer?: string;
  apiKeyEnv?: string;
}

export type ImproveRunResult = ImproveResult & RunOutputs;

/** `alignkit improve`: the concept-targeted fine-tuning loop as a run (resumable stage by stage). */
export async function improve(o: ImproveRunOptions): Promise<ImproveRunResult> {
  if (o.modelPath.includes('#'))
    throw inputError(
      'improve fine-tunes the model in-process: --model must be a local checkpoint, not a served model',
      {
        field: '--model',
      },
    );
  const benchmark = loadConceptBenchmark(o.benchmark);
  const session = RunSession.open({
    ...o,
    command: 'improve',
    models: { apiKeyEnv: o.apiKeyEnv, concurrency: o.generation.concurrency },
  });
  try {
    const teacher = o.teacher ? await session.models.load(o.teacher) : undefined;
    session.start({ items: benchmark.length });
    const result = await runImprove({
      ...o,
      benchmark,
      teacher,
      runDir: session.folder,
      resume: o.resume ?? false,
      // the models evaluated (the start and the fine-tuned one) are loaded for their stage and freed after it
      openModel: (ref) => loadModel(ref, { tokenizer: ref === o.modelPath ? o.tokenizer : undefined }),
      onProgress: (p) => session.progress(p),
    });
    return { ...result, ...finishRun(session.folder, result.summary) };
  } finally {
    await session.close();
  }
}
