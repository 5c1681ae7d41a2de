/** MT-Bench-101 in the benchmark registry: multi-turn dialogues, the evaluated model's turns rated by a judge. */
import { inputError } from '../../errors.ts';
import { defineBenchmark, needData, needModelOrResponses } from '../benchmark.ts';
import { firstPerTask, loadMtBench101, loadMtBenchResponses } from './data.ts';
import { defaultMtBenchGeneration, runMtBench101 } from './run.ts';

export const mtBench101 = defineBenchmark({
  name: 'mt-bench-101',
  summary: 'multi-turn dialogues in 13 tasks, each judged turn rated 1–10 by a judge model',
  description:
    "MT-Bench-101: the evaluated model answers every turn of each dialogue with the golden history before it; a judge rates each judged turn 1–10 with the task's rubric. --limit N keeps the first N dialogues of each task.",
  dataFormat: 'mtbench101.jsonl',
  responsesFormat: 'JSONL {id, turn, response}',
  options: {},
  load(o) {
    needModelOrResponses('mt-bench-101', o);
    const all = loadMtBench101(needData('mt-bench-101', o, 'mtbench101.jsonl')[0]);
    if (o.responses.length && !o.judge) throw inputError('eval mt-bench-101 needs --judge REF to score --responses');
    return {
      dialogues: o.limit ? firstPerTask(all, o.limit) : all,
      responses: o.responses.length ? loadMtBenchResponses(o.responses[0]) : undefined,
    };
  },
  async open({ dialogues, responses }, c) {
    const model = responses ? undefined : await c.loadModel(c.options.model!);
    const judge = c.options.judge ? await c.loadJudge(c.options.judge) : undefined;
    return async () =>
      (
        await runMtBench101({
          dialogues,
          runDir: c.runDir,
          responses,
          concurrency: c.options.concurrency,
          onProgress: c.onProgress,
          model,
          generation: c.generation(defaultMtBenchGeneration),
          judge,
        })
      ).summary;
  },
});
