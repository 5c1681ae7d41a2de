import { formatError, inputError, type ErrorWhere } from '../../errors.ts';
import type { ChatMessage } from '../../tokenizers/tokenizer.ts';
import { readJsonl } from '../../util/jsonl.ts';
import { integerField, readRecords, stringField } from '../records-file.ts';
import type { ResponseRecord } from '../staged-run.ts';
import { isMtTask, MT_TASKS, SKIP_FIRST_TASKS, type MtTask } from './taxonomy.ts';

export interface MtExchange {
  user: string;
  /** the curated golden reply */
  bot: string;
}

export interface MtDialogue {
  task: MtTask;
  id: number;
  history: MtExchange[];
}

/** One turn the model answers and the judge scores. */
export interface JudgedTurn {
  /** `<dialogue id>:<turn>` */
  key: string;
  dialogueId: number;
  task: MtTask;
  /** 1-based */
  turn: number;
  /** golden history before this turn, then this turn's user message */
  messages: ChatMessage[];
  /** the golden reply of this turn */
  golden: string;
}

export const turnKey = (dialogueId: number, turn: number) => `${dialogueId}:${turn}`;

export function parseMtDialogue(value: unknown, where: ErrorWhere): MtDialogue {
  const v = value as Record<string, unknown>;
  if (!v || typeof v !== 'object' || Array.isArray(v))
    throw formatError('expected a JSON object {task, id, history}', where);
  if (!isMtTask(v.task))
    throw formatError(`expected one of ${MT_TASKS.join(', ')}, got ${JSON.stringify(v.task)}`, {
      ...where,
      field: 'task',
    });
  if (typeof v.id !== 'number' || !Number.isInteger(v.id))
    throw formatError('expected an integer id', { ...where, field: 'id' });
  if (!Array.isArray(v.history) || v.history.length === 0)
    throw formatError('expected a non-empty array of {user, bot}', { ...where, field: 'history' });
  const history = v.history.map((h: any, i: number) => {
    for (const f of ['user', 'bot'] as const) {
      if (typeof h?.[f] !== 'string') throw formatError('expected a string', { ...where, field: `history[${i}].${f}` });
    }
    return { user: h.user as string, bot: h.bot as string };
  });
  return { task: v.task, id: v.id, history };
}

/** Reads mtbench101.jsonl; a line with a missing or wrong field names the file, line and field. */
export function loadMtBench101(path: string): MtDialogue[] {
  const dialogues = readJsonl(path).map(({ value, line }) => parseMtDialogue(value, { file: path, line }));
  const seen = new Set<number>();
  for (const d of dialogues) {
    if (seen.has(d.id)) throw formatError(`duplicate dialogue id ${d.id}`, { file: path, field: 'id' });
    seen.add(d.id);
  }
  return dialogues;
}

/** The first `n` dialogues of every task (so a small run still covers all 13 tasks). */
export function firstPerTask(dialogues: readonly MtDialogue[], n: number): MtDialogue[] {
  const count = new Map<MtTask, number>();
  return dialogues.filter((d) => {
    const c = count.get(d.task) ?? 0;
    count.set(d.task, c + 1);
    return c < n;
  });
}

/**
 * The judged turns of a dialogue with their golden context: turn k sees the golden replies of
 * turns 1..k-1, never the model's own. The first turn of CM, AR, CR, FR, SC, SA is context only.
 */
export function judgedTurns(dialogue: MtDialogue): JudgedTurn[] {
  const turns: JudgedTurn[] = [];
  const context: ChatMessage[] = [];
  dialogue.history.forEach((exchange, i) => {
    const messages = [...context, { role: 'user', content: exchange.user }];
    if (!(i === 0 && SKIP_FIRST_TASKS.has(dialogue.task))) {
      turns.push({
        key: turnKey(dialogue.id, i + 1),
        dialogueId: dialogue.id,
        task: dialogue.task,
        turn: i + 1,
        messages,
        golden: exchange.bot,
      });
    }
    context.push({ role: 'user', content: exchange.user }, { role: 'assistant', content: exchange.bot });
  });
  return turns;
}

/** Reads a responses file for MT-Bench-101: JSONL of {id, turn, response} (turn 1-based). */
export function loadMtBenchResponses(path: string): Map<string, ResponseRecord> {
  const out = new Map<string, ResponseRecord>();
  for (const record of readRecords(path)) {
    const key = turnKey(integerField(record, 'id'), integerField(record, 'turn'));
    if (out.has(key))
      throw inputError(`duplicate response for dialogue ${record.value.id} turn ${record.value.turn}`, record.where);
    out.set(key, { ...record.value, key, response: stringField(record, 'response') });
  }
  return out;
}
