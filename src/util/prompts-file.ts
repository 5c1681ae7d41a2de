/** Prompt files, as every command that reads prompts takes them: JSONL with a "prompt" field, or text with one per line. */
import { extname } from 'node:path';
import { inputError } from '../errors.ts';
import { readTextFile } from './data-file.ts';
import { readJsonl } from './jsonl.ts';

/** A prompt and where it came from (for errors that name the file and line). */
export interface PromptItem {
  prompt: string;
  file?: string;
  line?: number;
}

export function readPrompts(file: string): PromptItem[] {
  const ext = extname(file.replace(/\.gz$/, '')).toLowerCase();
  if (ext === '.jsonl' || ext === '.json') {
    return readJsonl<Record<string, unknown>>(file).map(({ value, line }) => {
      const prompt = value?.prompt;
      if (typeof prompt !== 'string')
        throw inputError('expected a string "prompt" field', { file, line, field: 'prompt' });
      return { prompt, file, line };
    });
  }
  if (ext === '.txt') {
    return readTextFile(file)
      .split('\n')
      .map((prompt, i) => ({ prompt, file, line: i + 1 }))
      .filter((p) => p.prompt.trim() !== '');
  }
  throw inputError('prompts must be .jsonl (a "prompt" field per line) or .txt (one prompt per line)', { file });
}
