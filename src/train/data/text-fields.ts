/**
 * Reading the text fields of TRL-format records: a field is a plain string or a list of chat
 * messages ({"role", "content"}). Errors name the file, line and field and say what was expected.
 */
import { inputError } from '../../errors.ts';
import type { ChatMessage } from '../../tokenizers/tokenizer.ts';

export type TextOrChat = string | ChatMessage[];

export interface RecordAt {
  value: Record<string, unknown>;
  file: string;
  line: number;
}

export function asObject(raw: unknown, file: string, line: number): Record<string, unknown> {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw inputError(`expected a JSON object per line, got ${JSON.stringify(raw)?.slice(0, 60)}`, { file, line });
  return raw as Record<string, unknown>;
}

export function has(r: RecordAt, field: string): boolean {
  return r.value[field] !== undefined && r.value[field] !== null;
}

/** A string or a list of messages; `allowEmpty` for prompts (a completion may follow nothing). */
export function textField(r: RecordAt, field: string, allowEmpty = false): TextOrChat {
  const v = r.value[field];
  const where = { file: r.file, line: r.line, field };
  if (v === undefined || v === null) throw inputError('missing (expected a string or a list of {"role", "content"} messages)', where);
  if (typeof v === 'string') {
    if (!allowEmpty && v.trim() === '') throw inputError('empty text (expected a non-empty string)', where);
    return v;
  }
  if (!Array.isArray(v)) throw inputError(`expected a string or a list of messages, got ${typeof v}`, where);
  if (v.length === 0 && !allowEmpty) throw inputError('empty list of messages', where);
  return v.map((m, i) => {
    if (typeof m !== 'object' || m === null || typeof (m as ChatMessage).role !== 'string' || typeof (m as ChatMessage).content !== 'string') {
      throw inputError(`message ${i} is not a {"role": string, "content": string} object`, where);
    }
    const { role, content } = m as ChatMessage;
    return { role, content };
  });
}

export const isChat = (t: TextOrChat): t is ChatMessage[] => Array.isArray(t);

/** The prompt two texts share (TRL's extract_prompt): the common leading messages, or the common string prefix cut back to before a trailing space. */
export function sharedPrompt(a: TextOrChat, b: TextOrChat): { prompt: TextOrChat; a: TextOrChat; b: TextOrChat } {
  if (isChat(a) && isChat(b)) {
    let i = 0;
    while (i < a.length - 1 && i < b.length - 1 && a[i].role === b[i].role && a[i].content === b[i].content) i++;
    return { prompt: a.slice(0, i), a: a.slice(i), b: b.slice(i) };
  }
  if (isChat(a) || isChat(b)) throw inputError('chosen and rejected must both be strings or both be message lists');
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  if (i > 0 && a[i - 1] === ' ') i--;
  return { prompt: a.slice(0, i), a: a.slice(i), b: b.slice(i) };
}
