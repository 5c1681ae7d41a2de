/**
 * Harmful-prompt sets: AdvBench CSVs (`goal` column; `target` for harmful_strings), HH-RLHF
 * harmless-base JSONL(.gz) (the first human turn of `chosen`, as the ED code does), or a user's
 * CSV/JSONL with a `prompt` column/field.
 */
import { existsSync } from 'node:fs';
import { basename } from 'node:path';
import { readTextFile } from '../../util/data-file.ts';
import { formatError, inputError } from '../../errors.ts';
import { parseCsv } from '../csv.ts';
import { readRecords, stringField } from '../records-file.ts';

export interface SafetyPrompt {
  /** `<file name>:<index>` */
  key: string;
  source: string;
  index: number;
  prompt: string;
}

const CSV_COLUMNS = ['prompt', 'goal', 'behavior', 'query', 'target'];
const JSON_FIELDS = ['prompt', 'goal', 'query', 'instruction', 'question'];

/** The first "Human:" turn of an HH-RLHF transcript. */
export function firstHumanTurn(transcript: string): string | undefined {
  const m = /(?:^|\n\n)Human:\s*([\s\S]*?)(?=\n\nAssistant:|$)/.exec(transcript);
  const text = m?.[1].trim();
  return text ? text : undefined;
}

function loadCsvPrompts(path: string): string[] {
  const { header, rows } = parseCsv(readTextFile(path), path);
  const column = CSV_COLUMNS.map((c) => header.indexOf(c)).find((i) => i >= 0);
  if (column === undefined)
    throw formatError(`no prompt column (expected one of: ${CSV_COLUMNS.join(', ')}; found: ${header.join(', ')})`, {
      file: path,
      line: 1,
    });
  return rows.map(({ cells, line }) => {
    const text = cells[column]?.trim();
    if (!text) throw formatError('empty prompt', { file: path, line, field: header[column] });
    return text;
  });
}

function loadJsonPrompts(path: string): string[] {
  return readRecords(path).map((record) => {
    if (typeof record.value.chosen === 'string') {
      const turn = firstHumanTurn(record.value.chosen);
      if (!turn) throw formatError('no "Human:" turn in the transcript', { ...record.where, field: 'chosen' });
      return turn;
    }
    const field = JSON_FIELDS.find((f) => record.value[f] !== undefined);
    if (!field)
      throw inputError(
        `missing field (expected one of: ${JSON_FIELDS.join(', ')}, or an HH-RLHF "chosen" transcript)`,
        record.where,
      );
    return stringField(record, field);
  });
}

/** Reads a prompt set; `limit` keeps the first N (the ED paper uses the first 200 per dataset). */
export function loadSafetyPrompts(path: string, options: { limit?: number } = {}): SafetyPrompt[] {
  if (!existsSync(path)) throw inputError('file not found', { file: path });
  const isCsv = /\.csv(\.gz)?$/i.test(path);
  const prompts = isCsv ? loadCsvPrompts(path) : loadJsonPrompts(path);
  const source = basename(path).replace(/\.(csv|jsonl|json)(\.gz)?$/i, '');
  return prompts
    .slice(0, options.limit ?? prompts.length)
    .map((prompt, index) => ({ key: `${source}:${index}`, source, index, prompt }));
}
