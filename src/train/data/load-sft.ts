/**
 * SFT data: JSONL in TRL's formats, one example per line —
 *   {"prompt": ..., "completion": ...}   prompt-completion (strings or message lists)
 *   {"messages": [...]}                  conversation; the last assistant turn is trained on
 *   {"text": ...}                        language modeling; every token after BOS is trained on
 */
import { inputError } from '../../errors.ts';
import type { Tokenizer } from '../../tokenizers/tokenizer.ts';
import { readJsonl } from '../../util/jsonl.ts';
import type { SftExample } from '../examples.ts';
import { renderExample } from './render.ts';
import { asObject, has, textField, type RecordAt, type TextOrChat } from './text-fields.ts';
import { boundCharacters, fitToLength, tokenizeExample } from './tokenize.ts';

export interface DataStats {
  examples: number;
  /** examples cut to fit the maximum length */
  truncated: number;
  file: string;
}

export interface LoadOptions {
  maxLength: number;
}

const SFT_FORMATS = '"prompt" and "completion", "messages", or "text" (TRL SFT formats)';

function promptAndCompletion(r: RecordAt): { prompt: TextOrChat; completion: TextOrChat; field: string } {
  if (!has(r, 'completion') && (has(r, 'chosen') || has(r, 'rejected'))) {
    throw inputError(`this is preference data ("chosen"/"rejected"; train it with rm or dpo); SFT expected ${SFT_FORMATS}`, { file: r.file, line: r.line });
  }
  if (has(r, 'prompt') || has(r, 'completion')) return { prompt: textField(r, 'prompt', true), completion: textField(r, 'completion'), field: 'completion' };
  if (has(r, 'messages')) {
    const messages = textField(r, 'messages') as { role: string; content: string }[];
    if (!Array.isArray(messages)) throw inputError('expected a list of messages', { file: r.file, line: r.line, field: 'messages' });
    const last = messages.length - 1;
    if (messages[last].role !== 'assistant') throw inputError('the last message must be the assistant turn to train on', { file: r.file, line: r.line, field: 'messages' });
    return { prompt: messages.slice(0, last), completion: [messages[last]], field: 'messages' };
  }
  if (has(r, 'text')) return { prompt: '', completion: textField(r, 'text'), field: 'text' };
  throw inputError(`expected ${SFT_FORMATS}`, { file: r.file, line: r.line });
}

export function loadSftData(file: string, tokenizer: Tokenizer, options: LoadOptions): { examples: SftExample[]; stats: DataStats } {
  const examples: SftExample[] = [];
  let truncated = 0;
  for (const { value, line } of readJsonl(file)) {
    const r: RecordAt = { value: asObject(value, file, line), file, line };
    const { prompt, completion, field } = promptAndCompletion(r);
    const bounded = boundCharacters(tokenizer, renderExample(tokenizer, prompt, completion, { file, line, field }), options.maxLength);
    const { ids, responseStart } = tokenizeExample(tokenizer, bounded.example);
    if (ids.length <= responseStart) throw inputError('the response has no tokens', { file, line, field });
    const fit = fitToLength(ids.slice(0, responseStart), [ids.slice(responseStart)], options.maxLength);
    const cut = fit.truncated || bounded.cut;
    if (cut) truncated++;
    examples.push({ promptIds: fit.prompt, responseIds: fit.responses[0], file, line, truncated: cut });
  }
  if (examples.length === 0) throw inputError('no examples (the file is empty)', { file });
  return { examples, stats: { examples: examples.length, truncated, file } };
}
