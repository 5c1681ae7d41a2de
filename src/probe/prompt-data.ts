import { existsSync } from 'node:fs';
import { readTextFile } from '../util/data-file.ts';
import { inputError } from '../errors.ts';
import { readJsonl } from '../util/jsonl.ts';

/** One prompt to collect states for, with every field of its data line (attributes may read them). */
export interface PromptItem {
  id: string;
  /** 1-based line in the data file */
  line?: number;
  prompt: string;
  fields: Record<string, unknown>;
}

export interface PromptDataOptions {
  /** field holding the prompt (default: the first of prompt, question, instruction, input, text) */
  promptField?: string;
  /** builds the prompt from fields, e.g. "Q: {question}\nA:" (overrides promptField) */
  template?: string;
  /** keep the first N items */
  limit?: number;
  /** keep the first N words of each prompt (negative: the last |N| words) */
  words?: number;
}

const PROMPT_FIELDS = ['prompt', 'question', 'instruction', 'input', 'text'];

/**
 * Reads prompts from JSONL (objects, or plain strings; .jsonl.gz too) or plain text (one
 * prompt per non-empty line). Missing prompt fields name the file, line and field.
 */
export function readPromptItems(file: string, options: PromptDataOptions = {}): PromptItem[] {
  if (!existsSync(file)) throw inputError('file not found', { file });
  let rows: { value: unknown; line: number }[];
  if (/\.jsonl(\.gz)?$/.test(file)) rows = readJsonl(file);
  else if (/\.txt$/.test(file))
    rows = readTextFile(file)
      .split('\n')
      .map((value, i) => ({ value: value.trim(), line: i + 1 }))
      .filter((r) => r.value);
  else throw inputError('unsupported data file (expected .jsonl, .jsonl.gz or .txt)', { file });
  if (options.limit !== undefined) rows = rows.slice(0, options.limit);
  if (rows.length === 0) throw inputError('no prompts in the data file', { file });

  const objects = rows.map(({ value, line }) => {
    if (typeof value === 'string') return { fields: { text: value } as Record<string, unknown>, line };
    if (value && typeof value === 'object' && !Array.isArray(value))
      return { fields: value as Record<string, unknown>, line };
    throw inputError('expected a JSON object or string', { file, line });
  });
  const promptField = options.template
    ? undefined
    : (options.promptField ?? PROMPT_FIELDS.find((f) => typeof objects[0].fields[f] === 'string'));
  if (!options.template && !promptField)
    throw inputError(
      `no prompt field (expected one of ${PROMPT_FIELDS.join(', ')}, or pass --prompt-field / --template)`,
      { file, line: objects[0].line },
    );

  return objects.map(({ fields, line }) => {
    const prompt = options.template ? fillTemplate(options.template, fields, file, line) : fields[promptField!];
    if (typeof prompt !== 'string' || !prompt)
      throw inputError('missing or empty prompt', { file, line, field: promptField });
    const id = fields.id !== undefined ? String(fields.id) : String(line);
    return { id, line, prompt: options.words ? keepWords(prompt, options.words) : prompt, fields };
  });
}

function fillTemplate(template: string, fields: Record<string, unknown>, file: string, line: number): string {
  return template.replace(/\{(\w+)\}/g, (_, name: string) => {
    const v = fields[name];
    if (v === undefined || v === null)
      throw inputError(`the template needs field "${name}"`, { file, line, field: name });
    return String(v);
  });
}

function keepWords(text: string, words: number): string {
  const all = text.trim().split(/\s+/);
  return (words > 0 ? all.slice(0, words) : all.slice(words)).join(' ');
}
