import type { Summary } from '../../run/summary.ts';
import type { JudgeFailure } from '../judge.ts';
import type { GenerationFailure } from '../staged-run.ts';
import { failuresTable, generationFailuresTable, round } from '../summary-parts.ts';
import type { MtBenchScores } from './score.ts';
import { MT_TASKS, TASK_INFO } from './taxonomy.ts';
import { finiteOrNull } from '../../util/finite.ts';

export interface MtBenchSummaryInput {
  scores: MtBenchScores;
  failures: JudgeFailure[];
  model?: string;
  judge: string;
  missingResponses: number;
  /** turns whose reply could not be generated (e.g. the dialogue does not fit the model's context) */
  generationFailures: readonly GenerationFailure[];
}

/** summary.json of an MT-Bench-101 run: per-task and per-ability tables, a radar and task bars. */
export function mtBenchSummary({
  scores,
  failures,
  model,
  judge,
  missingResponses,
  generationFailures,
}: MtBenchSummaryInput): Summary {
  const partial = scores.tasksScored < MT_TASKS.length;
  return {
    kind: 'eval mt-bench-101',
    title: `MT-Bench-101${model ? ` — ${model}` : ''} (judge ${judge})`,
    metrics: {
      overall: finiteOrNull(scores.overall),
      tasks_scored: scores.tasksScored,
      dialogues: scores.dialogues.length,
      judged_turns: scores.tasks.reduce((a, t) => a + t.judgedTurns, 0),
      judge_failures: scores.failedTurns,
      missing_responses: missingResponses,
      generation_failures: generationFailures.length,
      judge,
      ...(model ? { model } : {}),
    },
    tables: [
      {
        title: 'Per task (dialogue = min over judged turns; task = mean over dialogues)',
        columns: ['task', 'name', 'ability', 'category', 'dialogues', 'judged turns', 'failed judgements', 'score'],
        rows: scores.tasks.map((t) => [
          t.task,
          TASK_INFO[t.task].name,
          TASK_INFO[t.task].ability,
          TASK_INFO[t.task].category,
          t.dialogues,
          t.judgedTurns,
          t.failedTurns,
          round(t.score),
        ]),
        note: `overall = unweighted mean of ${scores.tasksScored} task score(s)${partial ? ` — only ${scores.tasksScored} of 13 tasks have scores, so this is not comparable with full-benchmark numbers` : ''}`,
      },
      {
        title: 'Per ability (mean of member tasks)',
        columns: ['category', 'ability', 'tasks scored', 'score'],
        rows: [
          ...scores.abilities.map((a) => [a.category, a.name, `${a.scored}/${a.members}`, round(a.score)]),
          ...scores.categories.map((c) => [c.name, '(all)', `${c.scored}/${c.members}`, round(c.score)]),
        ],
        note: 'The released code computes task scores only; ability scores here are means of member task scores.',
      },
      failuresTable(failures),
      generationFailuresTable(generationFailures),
    ],
    plots: [
      {
        type: 'radar',
        title: 'MT-Bench-101 abilities',
        series: [
          {
            name: model ?? 'model',
            points: scores.abilities.filter((a) => a.score !== null).map((a) => [a.name, round(a.score)!]),
          },
        ],
      },
      {
        type: 'bar',
        title: 'MT-Bench-101 tasks',
        xLabel: 'task',
        yLabel: 'score (1-10)',
        series: [
          {
            name: model ?? 'model',
            points: scores.tasks.filter((t) => t.score !== null).map((t) => [t.task, round(t.score)!]),
          },
        ],
      },
    ],
    failures,
  };
}
