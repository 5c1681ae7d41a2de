/**
 * A cheap identity of a model reference for on-disk caches: a local checkpoint is its resolved
 * path plus the name, size and modification time of each file (a retrained checkpoint at the
 * same path gets a new fingerprint without hashing gigabytes); a remote one is its reference.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { isRemoteRef } from '../lm/model-ref.ts';

export function modelFingerprint(ref: string): string {
  if (isRemoteRef(ref) || !existsSync(ref)) return `ref:${ref.trim()}`;
  const path = resolve(ref);
  const stat = statSync(path);
  const files = stat.isDirectory()
    ? readdirSync(path)
        .sort()
        .filter((f) => !f.startsWith('.'))
        .map((f) => [f, statSync(join(path, f))] as const)
        .filter(([, s]) => s.isFile())
    : [['', stat] as const];
  const h = createHash('sha256').update(path);
  for (const [name, s] of files) h.update(`\0${name}\0${s.size}\0${s.mtimeMs}`);
  return `file:${h.digest('hex').slice(0, 24)}`;
}

export const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
