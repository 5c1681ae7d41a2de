/**
 * Preference data: JSONL in TRL's formats, one pair per line —
 *   {"prompt": ..., "chosen": ..., "rejected": ...}   explicit prompt (strings or message lists)
 *   {"chosen": ..., "rejected": ...}                  implicit prompt: the shared beginning of both
 */
import { inputError } from '../../errors.ts';
import type { Tokenizer } from '../../tokenizers/tokenizer.ts';
import { encodeWithBos } from '../../lm/prompt-format.ts';
import { readJsonl } from '../../util/jsonl.ts';
import type { PreferencePair } from '../examples.ts';
import type { DataStats, LoadOptions } from './load-sft.ts';
import { renderExample } from './render.ts';
import { asObject, has, isChat, sharedPrompt, textField, type RecordAt } from './text-fields.ts';
import { boundCharacters, fitToLength, tokenizeExample } from './tokenize.ts';

export function loadPreferenceData(file: string, tokenizer: Tokenizer, options: LoadOptions): { pairs: PreferencePair[]; stats: DataStats } {
  const pairs: PreferencePair[] = [];
  let truncated = 0;
  for (const { value, line } of readJsonl(file)) {
    const r: RecordAt = { value: asObject(value, file, line), file, line };
    if (!has(r, 'chosen') || !has(r, 'rejected')) {
      const missing = ['chosen', 'rejected'].filter((f) => !has(r, f));
      throw inputError(`missing ${missing.map((f) => `"${f}"`).join(' and ')} (expected {"prompt", "chosen", "rejected"} or {"chosen", "rejected"})`, { file, line, field: missing[0] });
    }
    let prompt = has(r, 'prompt') ? textField(r, 'prompt', true) : undefined;
    let chosen = textField(r, 'chosen');
    let rejected = textField(r, 'rejected');
    if (prompt === undefined) ({ prompt, a: chosen, b: rejected } = sharedPrompt(chosen, rejected));
    for (const [field, t] of [['chosen', chosen], ['rejected', rejected]] as const) {
      if (isChat(t) ? t.length === 0 : t.trim() === '') throw inputError('empty response', { file, line, field });
    }
    const boundedChosen = boundCharacters(tokenizer, renderExample(tokenizer, prompt, chosen, { file, line, field: 'chosen' }), options.maxLength);
    const boundedRejected = boundCharacters(tokenizer, renderExample(tokenizer, prompt, rejected, { file, line, field: 'rejected' }), options.maxLength);
    const [c, rj] = [boundedChosen.example, boundedRejected.example];
    const promptIds = encodeWithBos(tokenizer, c.prompt);
    const tc = tokenizeExample(tokenizer, c, promptIds);
    const tr = tokenizeExample(tokenizer, rj, promptIds);
    // both sequences share their ids up to the shorter prompt boundary
    const start = Math.min(tc.responseStart, tr.responseStart);
    const fit = fitToLength(tc.ids.slice(0, start), [tc.ids.slice(start), tr.ids.slice(start)], options.maxLength);
    const cut = fit.truncated || boundedChosen.cut || boundedRejected.cut;
    if (cut) truncated++;
    pairs.push({
      promptIds: fit.prompt, chosenIds: fit.responses[0], rejectedIds: fit.responses[1], file, line, truncated: cut,
      text: { prompt: c.prompt, chosen: c.response, rejected: rj.response },
    });
  }
  if (pairs.length === 0) throw inputError('no preference pairs (the file is empty)', { file });
  return { pairs, stats: { examples: pairs.length, truncated, file } };
}
