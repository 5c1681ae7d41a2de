import type { LanguageModel } from '../../lm/language-model.ts';
import type { RunDir } from '../../run/run-dir.ts';
import type { Summary } from '../../run/summary.ts';
import { itemSeed, sampleChat, type GenerationSettings } from '../chat.ts';
import type { Judge, JudgeFailure } from '../judge.ts';
import { runStaged, type ProgressCallback, type ResponseRecord } from '../staged-run.ts';
import { generationFailuresTable } from '../summary-parts.ts';
import { judgedTurns, type JudgedTurn, type MtDialogue } from './data.ts';
import { judgeMessages } from './prompts.ts';
import { aggregateMtBench, parseRating, type MtBenchScores, type TurnScore } from './score.ts';
import { mtBenchSummary } from './summary.ts';

export interface MtBenchRunOptions {
  dialogues: readonly MtDialogue[];
  runDir: RunDir;
  /** the evaluated model (stage 1); absent when responses come from a file */
  model?: LanguageModel;
  generation?: GenerationSettings;
  /** stage 2; absent = generate only */
  judge?: Judge;
  /** `--responses FILE`, keyed `<id>:<turn>` */
  responses?: ReadonlyMap<string, ResponseRecord>;
  concurrency: number;
  onProgress?: ProgressCallback;
}

/** One judged turn as stored in results.jsonl. */
export interface MtTurnResult extends TurnScore {
  judgement?: string;
  raws?: string[];
}

export interface MtBenchRun {
  summary: Summary;
  scores?: MtBenchScores;
  failures: JudgeFailure[];
}

export const defaultMtBenchGeneration: GenerationSettings = { maxNewTokens: 1024, temperature: 0 };

/** Generates the model's reply to every judged turn (golden context) and/or judges them. */
export async function runMtBench101(options: MtBenchRunOptions): Promise<MtBenchRun> {
  const { model, judge, runDir } = options;
  const generation = options.generation ?? defaultMtBenchGeneration;
  const turns = options.dialogues.flatMap(judgedTurns);
  const { results, responses, missing, failed } = await runStaged<JudgedTurn, MtTurnResult>({
    runDir,
    items: turns,
    keyOf: (t) => t.key,
    given: options.responses,
    generate:
      model && !options.responses
        ? async (t) => ({
            key: t.key,
            id: t.dialogueId,
            turn: t.turn,
            task: t.task,
            response: await sampleChat(model, t.messages, generation, itemSeed(generation.seed, t.key)),
          })
        : undefined,
    score: judge
      ? async (t, r) => {
          const j = await judge.judgeChat(judgeMessages(t, r.response), parseRating);
          const base = { dialogueId: t.dialogueId, task: t.task, turn: t.turn };
          return j.ok
            ? { ...base, rating: j.value, judgement: j.raw }
            : { ...base, rating: null, error: j.error, raws: j.raws };
        }
      : undefined,
    isFailure: (r) => r.rating === null,
    concurrency: options.concurrency,
    onProgress: options.onProgress,
  });
  if (!judge) {
    return {
      failures: [],
      summary: {
        kind: 'eval mt-bench-101',
        title: `MT-Bench-101 responses${model ? ` — ${model.id}` : ''}`,
        metrics: { responses: responses.size, judged_turns: turns.length, generation_failures: failed.length },
        tables: failed.length ? [generationFailuresTable(failed)] : [],
        plots: [],
      },
    };
  }
  const failures: JudgeFailure[] = results
    .filter((r) => r.rating === null)
    .map((r) => ({ key: r.key, error: r.error ?? 'unparsed', raws: r.raws ?? [] }));
  const scores = aggregateMtBench(results);
  const summary = mtBenchSummary({
    scores,
    failures,
    model: model?.id,
    judge: judge.id,
    missingResponses: missing.length,
    generationFailures: failed,
  });
  return { summary, scores, failures };
}
