import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Summary } from '../run/summary.ts';
import { validateSummary } from './validate-summary.ts';
import { formatError, inputError } from '../errors.ts';

export interface RunRecord {
  dir: string;
  summary: Summary;
  /** undefined when the run folder has no config.json */
  config?: Record<string, unknown>;
}

function isViablePrefix(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch (e) {
    // an error at the very end of the prefix only says the prefix is incomplete
    const message = (e as Error).message;
    const position = /position (\d+)/.exec(message);
    return /end of JSON input/.test(message) || (position !== null && Number(position[1]) >= text.length);
  }
}

/**
 * The line of a JSON.parse error: from "position N" in the message when V8 gives one, else by
 * finding the longest prefix that is still the start of valid JSON.
 */
function errorLine(text: string, message: string): number | undefined {
  const position = /position (\d+)/.exec(message);
  let at = position ? Number(position[1]) : undefined;
  if (at === undefined) {
    let lo = 0;
    let hi = text.length;
    while (lo < hi) {
      const mid = Math.ceil((lo + hi) / 2);
      if (isViablePrefix(text.slice(0, mid))) lo = mid;
      else hi = mid - 1;
    }
    at = lo;
  }
  return text.slice(0, at).split('\n').length;
}

function readJson(file: string): unknown {
  const text = readFileSync(file, 'utf8');
  try {
    return JSON.parse(text);
  } catch (e) {
    const message = (e as Error).message;
    throw formatError(`not valid JSON (${message.replace(/\s+/g, ' ')})`, { file, line: errorLine(text, message) });
  }
}

/** A run folder's summary.json (required, validated) and config.json (optional). */
export function readRun(dir: string): RunRecord {
  if (!existsSync(dir) || !statSync(dir).isDirectory())
    throw inputError('no such run folder (expected a directory written by an alignkit command)', { file: dir });
  const summaryFile = join(dir, 'summary.json');
  if (!existsSync(summaryFile))
    throw inputError('missing: a run folder needs the summary.json its command writes when it finishes', {
      file: summaryFile,
    });
  const summary = validateSummary(readJson(summaryFile), summaryFile);
  const configFile = join(dir, 'config.json');
  let config: Record<string, unknown> | undefined;
  if (existsSync(configFile)) {
    const parsed = readJson(configFile);
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
      throw formatError('expected a JSON object', { file: configFile });
    config = parsed as Record<string, unknown>;
  }
  return { dir, summary, config };
}
