/**
 * Margin rewards of preference pairs, computed once per (margin model, data) and cached on
 * disk, as TRL caches reference log-probs: MODPO trains a whole family of weights against the
 * same frozen margins. A cache file is `<dir>/<key>.jsonl` (a header line, then one
 * {i, chosen, rejected} line per pair); it is built in `<key>.partial.jsonl`, appended batch by
 * batch so a killed run resumes where it stopped, and renamed once complete. Rules that cost
 * nothing (no fingerprint, e.g. `length`) are recomputed instead.
 */
import { existsSync, mkdirSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { scoreChecked } from '../decode/scorer.ts';
import { AlignkitError } from '../errors.ts';
import { appendJsonl, readJsonlForResume } from '../util/jsonl.ts';
import type { PairMargins } from './modpo-loss.ts';
import type { RewardSource } from './reward-spec.ts';
import { sha256 } from './model-fingerprint.ts';

export interface PairText {
  prompt: string;
  chosen: string;
  rejected: string;
}

export interface ResponseMargins {
  chosen: number;
  rejected: number;
}

export interface MarginOptions {
  /** where cache files live; none = no caching */
  cacheDir?: string;
  /** pairs scored per call (default 16) */
  batchSize?: number;
  onProgress?: (event: { source: string; done: number; total: number; cached: boolean }) => void;
}

interface Header {
  key: string;
  source: string;
  fingerprint: string;
  pairs: number;
}
interface Row {
  i: number;
  chosen: number;
  rejected: number;
}

export function marginCacheKey(fingerprint: string, pairs: readonly PairText[]): string {
  const data = sha256(JSON.stringify(pairs.map((p) => [p.prompt, p.chosen, p.rejected])));
  return sha256(`${fingerprint}\n${data}`).slice(0, 32);
}

/** m(x, y_w) and m(x, y_l) of every pair under one margin model. */
export async function marginsFor(
  source: RewardSource,
  pairs: readonly PairText[],
  options: MarginOptions = {},
): Promise<ResponseMargins[]> {
  const batch = Math.max(1, options.batchSize ?? 16);
  const report = (done: number, cached: boolean) =>
    options.onProgress?.({ source: source.name, done, total: pairs.length, cached });
  const cacheable = options.cacheDir !== undefined && source.fingerprint !== undefined;
  const key = cacheable ? marginCacheKey(source.fingerprint!, pairs) : '';
  const final = cacheable ? join(options.cacheDir!, `${key}.jsonl`) : '';
  const partial = cacheable ? join(options.cacheDir!, `${key}.partial.jsonl`) : '';
  const header: Header = { key, source: source.spec, fingerprint: source.fingerprint ?? '', pairs: pairs.length };

  const out: (ResponseMargins | undefined)[] = new Array(pairs.length);
  if (cacheable) {
    if (existsSync(final)) {
      fill(out, readCache(final, header, true));
      report(pairs.length, true);
      return out as ResponseMargins[];
    }
    mkdirSync(options.cacheDir!, { recursive: true });
    if (existsSync(partial)) fill(out, readCache(partial, header, false));
    else appendJsonl(partial, header);
  }
  let done = out.filter(Boolean).length;
  report(done, done > 0);
  for (let start = 0; start < pairs.length; start += batch) {
    const todo = [...Array(Math.min(batch, pairs.length - start)).keys()].map((k) => start + k).filter((i) => !out[i]);
    if (!todo.length) continue;
    const items = todo.flatMap((i) =>
      [pairs[i].chosen, pairs[i].rejected].map((response) => ({
        prompt: pairs[i].prompt,
        response,
        finishReason: 'eos' as const,
      })),
    );
    const scores = await scoreChecked(source.scorer, items);
    todo.forEach((i, k) => {
      const row: Row = { i, chosen: scores[2 * k], rejected: scores[2 * k + 1] };
      out[i] = { chosen: row.chosen, rejected: row.rejected };
      if (cacheable) appendJsonl(partial, row);
    });
    done += todo.length;
    report(done, false);
  }
  if (cacheable) renameSync(partial, final);
  return out as ResponseMargins[];
}

function readCache(path: string, expected: Header, complete: boolean): Row[] {
  const [head, ...rows] = readJsonlForResume<Header | Row>(path);
  const h = head as Header | undefined;
  if (!h || h.key !== expected.key || h.pairs !== expected.pairs)
    throw new AlignkitError(
      'format',
      `margin cache ${path} does not belong to this data and model (header ${JSON.stringify(h)}); delete it`,
    );
  const valid = (rows as Row[]).filter(
    (r) =>
      Number.isInteger(r.i) &&
      r.i >= 0 &&
      r.i < expected.pairs &&
      Number.isFinite(r.chosen) &&
      Number.isFinite(r.rejected),
  );
  if (complete && new Set(valid.map((r) => r.i)).size !== expected.pairs)
    throw new AlignkitError(
      'format',
      `margin cache ${path} holds ${valid.length} of ${expected.pairs} pairs; delete it to recompute`,
    );
  return valid;
}

function fill(out: (ResponseMargins | undefined)[], rows: readonly Row[]): void {
  for (const r of rows) out[r.i] = { chosen: r.chosen, rejected: r.rejected };
}

/** Every margin model's margins, per pair in the models' order (what the MODPO loss takes). */
export async function pairMargins(
  sources: readonly RewardSource[],
  pairs: readonly PairText[],
  options: MarginOptions = {},
): Promise<PairMargins[]> {
  const perSource: ResponseMargins[][] = [];
  for (const s of sources) perSource.push(await marginsFor(s, pairs, options));
  return pairs.map((_, i) => ({
    chosen: perSource.map((m) => m[i].chosen),
    rejected: perSource.map((m) => m[i].rejected),
  }));
}
