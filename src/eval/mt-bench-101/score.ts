import type { JudgeParser } from '../judge.ts';
import { MT_TASKS, TASK_INFO, type MtTask } from './taxonomy.ts';

/**
 * Parses `Rating: [[n]]`, n an integer 1-10. The last `Rating: [[..]]` holding a number wins
 * (a judge may quote the format first); without one, the last bare `[[n]]`. Decimals and
 * out-of-range numbers are failures, not silently rounded.
 */
export const parseRating: JudgeParser<number> = (text) => {
  const numeric = (re: RegExp) =>
    [...text.matchAll(re)].map((m) => m[1].trim()).filter((s) => /^[+-]?\d+(\.\d+)?$/.test(s));
  const found = numeric(/Rating:\s*\[\[([^\][]*)\]\]/gi).pop() ?? numeric(/\[\[([^\][]*)\]\]/g).pop();
  if (found === undefined) return { error: 'no "Rating: [[n]]" in the judgement' };
  const n = Number(found);
  if (!Number.isInteger(n) || n < 1 || n > 10) return { error: `rating ${found} is not an integer from 1 to 10` };
  return { value: n };
};

/** The judgement of one turn as recorded in results.jsonl (rating null = recorded failure). */
export interface TurnScore {
  dialogueId: number;
  task: MtTask;
  turn: number;
  rating: number | null;
  error?: string;
}

export interface DialogueScore {
  dialogueId: number;
  task: MtTask;
  /** min over the parsed judged turns; null when none parsed */
  score: number | null;
  judgedTurns: number;
  failedTurns: number;
}

export interface GroupScore {
  name: string;
  /** mean of member scores; null when no member has a score */
  score: number | null;
  /** members with a score / all members */
  scored: number;
  members: number;
}

export interface TaskScore {
  task: MtTask;
  /** mean over the task's scored dialogues; null when none */
  score: number | null;
  dialogues: number;
  scoredDialogues: number;
  judgedTurns: number;
  failedTurns: number;
}

export interface MtBenchScores {
  /** unweighted mean of the task scores (over tasks that have one) */
  overall: number | null;
  tasksScored: number;
  tasks: TaskScore[];
  /** tier 2: mean of member task scores */
  abilities: (GroupScore & { category: string })[];
  /** tier 1: mean of member task scores */
  categories: GroupScore[];
  dialogues: DialogueScore[];
  /** judged turns whose judgement could not be parsed */
  failedTurns: number;
}

const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null);

/**
 * MT-Bench-101 aggregation: dialogue = min over its judged turns (failed judgements are left out
 * of the min, as the reference does, but counted), task = mean over dialogues, overall = mean
 * of the task scores; abilities and categories = mean of their member tasks.
 */
export function aggregateMtBench(turns: readonly TurnScore[]): MtBenchScores {
  const byDialogue = new Map<number, TurnScore[]>();
  for (const t of turns) {
    const list = byDialogue.get(t.dialogueId) ?? [];
    list.push(t);
    byDialogue.set(t.dialogueId, list);
  }
  const dialogues: DialogueScore[] = [...byDialogue.entries()].map(([dialogueId, ts]) => {
    const ratings = ts.flatMap((t) => (t.rating === null ? [] : [t.rating]));
    return {
      dialogueId,
      task: ts[0].task,
      score: ratings.length ? Math.min(...ratings) : null,
      judgedTurns: ts.length,
      failedTurns: ts.length - ratings.length,
    };
  });
  const tasks: TaskScore[] = MT_TASKS.flatMap((task) => {
    const ds = dialogues.filter((d) => d.task === task);
    if (!ds.length) return [];
    const scores = ds.flatMap((d) => (d.score === null ? [] : [d.score]));
    return [
      {
        task,
        score: mean(scores),
        dialogues: ds.length,
        scoredDialogues: scores.length,
        judgedTurns: ds.reduce((a, d) => a + d.judgedTurns, 0),
        failedTurns: ds.reduce((a, d) => a + d.failedTurns, 0),
      },
    ];
  });
  const taskScore = new Map(tasks.map((t) => [t.task, t.score]));
  const group = (name: string, members: MtTask[]): GroupScore => {
    const scores = members.flatMap((m) => {
      const s = taskScore.get(m);
      return s === undefined || s === null ? [] : [s];
    });
    return { name, score: mean(scores), scored: scores.length, members: members.length };
  };
  const abilityNames = [...new Set(MT_TASKS.map((t) => TASK_INFO[t].ability))];
  const abilities = abilityNames.map((a) => {
    const members = MT_TASKS.filter((t) => TASK_INFO[t].ability === a);
    return { ...group(a, members), category: TASK_INFO[members[0]].category };
  });
  const categories = [...new Set(MT_TASKS.map((t) => TASK_INFO[t].category))].map((c) =>
    group(
      c,
      MT_TASKS.filter((t) => TASK_INFO[t].category === c),
    ),
  );
  const scoredTasks = tasks.flatMap((t) => (t.score === null ? [] : [t.score]));
  return {
    overall: mean(scoredTasks),
    tasksScored: scoredTasks.length,
    tasks,
    abilities,
    categories,
    dialogues,
    failedTurns: dialogues.reduce((a, d) => a + d.failedTurns, 0),
  };
}
