import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeJsonAtomic } from '../util/atomic-write.ts';

/** What identifies one judge output: the judge, the exact prompt it saw, its settings, the attempt. */
export interface JudgeCacheKey {
  judge: string;
  prompt: string;
  settings: Record<string, unknown>;
  attempt: number;
}

export interface JudgeCacheEntry extends JudgeCacheKey {
  output: string;
  at: string;
}

export function judgeCacheHash(key: JudgeCacheKey): string {
  const canonical = JSON.stringify([key.judge, key.prompt, sortedEntries(key.settings), key.attempt]);
  return createHash('sha256').update(canonical).digest('hex');
}

function sortedEntries(o: Record<string, unknown>): [string, unknown][] {
  return Object.entries(o)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

/**
 * On-disk judge outputs, one atomically written file per key (`<dir>/<2 hex>/<hash>.json`), so
 * concurrent runs may share a cache folder and a killed run never leaves a torn entry.
 */
export class JudgeCache {
  readonly dir: string;
  hits = 0;
  misses = 0;
  constructor(dir: string) {
    this.dir = dir;
  }

  private file(hash: string): string {
    return join(this.dir, hash.slice(0, 2), `${hash}.json`);
  }

  get(key: JudgeCacheKey): string | undefined {
    const file = this.file(judgeCacheHash(key));
    if (!existsSync(file)) {
      this.misses++;
      return undefined;
    }
    try {
      const entry = JSON.parse(readFileSync(file, 'utf8')) as JudgeCacheEntry;
      if (typeof entry.output !== 'string') throw new Error('no output');
      this.hits++;
      return entry.output;
    } catch {
      this.misses++; // an unreadable entry is treated as absent and rewritten
      return undefined;
    }
  }

  set(key: JudgeCacheKey, output: string): void {
    const entry: JudgeCacheEntry = { ...key, output, at: new Date().toISOString() };
    writeJsonAtomic(this.file(judgeCacheHash(key)), entry);
  }
}
