import { ContextLengthError } from '../errors.ts';
import type { RunDir } from '../run/run-dir.ts';
import { appendJsonl, readJsonlForResume } from '../util/jsonl.ts';
import { runPool } from './concurrency.ts';

/** Progress of a benchmark run, rendered by the CLI. */
export interface EvalProgress {
  done: number;
  total: number;
  /** judgements recorded as failures so far */
  failures: number;
}
export type ProgressCallback = (progress: EvalProgress) => void;

/** One generated (or user-supplied) response, as stored in responses.jsonl. */
export interface ResponseRecord {
  key: string;
  response: string;
  [field: string]: unknown;
}

/** An item whose response could not be generated, and why (stored in responses.jsonl as {key, error}). */
export interface GenerationFailure {
  key: string;
  error: string;
}

/**
 * Whether a generation error concerns its item alone, so the run records it and goes on: its
 * prompt does not fit the model's context (the native check, or a server's "context length
 * exceeded"). Anything else (a server down after retries, a refused key, a bug) ends the run.
 */
const itemFailure = (error: unknown): string | null => (error instanceof ContextLengthError ? error.message : null);

const isFailureRecord = (r: ResponseRecord | GenerationFailure): r is GenerationFailure =>
  typeof (r as Partial<GenerationFailure>).error === 'string' && (r as Partial<ResponseRecord>).response === undefined;

export type ResultRecord<R> = R & { key: string };

export interface StagedRunOptions<I, R extends object> {
  runDir: RunDir;
  items: readonly I[];
  keyOf: (item: I) => string;
  /** stage 1: produce a response (absent when responses come from a file) */
  generate?: (item: I) => Promise<ResponseRecord>;
  /** responses supplied by the user (`--responses FILE`), by key */
  given?: ReadonlyMap<string, ResponseRecord>;
  /** stage 2: score a response (absent = generate only) */
  score?: (item: I, response: ResponseRecord) => Promise<R>;
  isFailure?: (result: R) => boolean;
  concurrency: number;
  onProgress?: ProgressCallback;
}

export interface StagedRunResult<R> {
  /** responses of the items, by key (generated now, earlier, or given) */
  responses: Map<string, ResponseRecord>;
  /** results of the items, in item order (finished earlier or now) */
  results: ResultRecord<R>[];
  /** keys of items that have no response (only possible with given responses) */
  missing: string[];
  /** items whose generation failed on their own (recorded, not scored, counted in summaries) */
  failed: GenerationFailure[];
}

export const RESPONSES_FILE = 'responses.jsonl';

/**
 * The two stages every benchmark shares: generate a response per item (streamed to
 * responses.jsonl), then score it (streamed to results.jsonl through the RunDir). Either stage
 * may be absent. Finished work of an earlier, killed run is read back and not repeated; items run
 * concurrently through one pool, so at most `concurrency` items (each a model call and/or judge
 * calls) are in flight.
 */
export async function runStaged<I, R extends object>(options: StagedRunOptions<I, R>): Promise<StagedRunResult<R>> {
  const { runDir, items, keyOf, generate, given, score, isFailure, concurrency, onProgress } = options;
  const responsesPath = runDir.path(RESPONSES_FILE);
  const responses = new Map<string, ResponseRecord>();
  const failedGenerations = new Map<string, GenerationFailure>();
  for (const r of readJsonlForResume<ResponseRecord | GenerationFailure>(responsesPath)) {
    if (isFailureRecord(r)) failedGenerations.set(r.key, r);
    else responses.set(r.key, r);
  }
  const finished = new Map<string, ResultRecord<R>>();
  if (score) for (const r of runDir.finished<ResultRecord<R>>()) finished.set(r.key, r);

  const keys = items.map(keyOf);
  const missing: string[] = [];
  const isDone = (key: string) =>
    failedGenerations.has(key) || (score ? finished.has(key) : responses.has(key) || !!given?.has(key));
  const pending = items.filter((_, i) => !isDone(keys[i]));
  const total = items.length;
  let done = total - pending.length;
  let failures = keys.filter((key) => failedGenerations.has(key)).length;
  if (isFailure)
    for (const key of keys) {
      const r = finished.get(key);
      if (r && isFailure(r)) failures++;
    }
  onProgress?.({ done, total, failures });

  await runPool(pending, concurrency, async (item) => {
    const key = keyOf(item);
    let response = given?.get(key) ?? responses.get(key);
    if (!response && generate) {
      try {
        response = { ...(await generate(item)), key };
      } catch (error) {
        const reason = itemFailure(error);
        if (reason === null) throw error;
        const failure = { key, error: reason };
        appendJsonl(responsesPath, failure);
        failedGenerations.set(key, failure);
        onProgress?.({ done: ++done, total, failures: ++failures });
        return;
      }
      appendJsonl(responsesPath, response);
    }
    if (!response) {
      missing.push(key);
    } else {
      responses.set(key, response);
      if (score) {
        const result = { ...(await score(item, response)), key } as ResultRecord<R>;
        runDir.append(result);
        finished.set(key, result);
        if (isFailure?.(result)) failures++;
      }
    }
    done++;
    onProgress?.({ done, total, failures });
  });

  const results = keys.flatMap((k) => {
    const r = finished.get(k);
    return r ? [r] : [];
  });
  const itemResponses = new Map<string, ResponseRecord>();
  for (const k of keys) {
    const r = given?.get(k) ?? responses.get(k);
    if (r) itemResponses.set(k, r);
  }
  const failed = keys.flatMap((k) => {
    const f = failedGenerations.get(k);
    return f ? [f] : [];
  });
  return { responses: itemResponses, results, missing, failed };
}
