/**
 * Writes a whole directory so that readers see the old one or the complete new one: it is
 * filled beside its final place and renamed in (an old one is moved aside first and removed
 * after, since a directory cannot be replaced by one rename).
 */
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { writeFailure } from '../util/atomic-write.ts';

export function writeDirectoryAtomic(dir: string, fill: (tmp: string) => void): void {
  const target = resolve(dir);
  const parent = dirname(target);
  mkdirSync(parent, { recursive: true });
  const stamp = `${process.pid}-${Date.now()}`;
  const tmp = join(parent, `.${basename(target)}.tmp-${stamp}`);
  mkdirSync(tmp);
  try {
    fill(tmp);
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw writeFailure(target, e);
  }
  if (existsSync(target)) {
    const old = join(parent, `.${basename(target)}.old-${stamp}`);
    renameSync(target, old);
    renameSync(tmp, target);
    rmSync(old, { recursive: true, force: true });
  } else {
    renameSync(tmp, target);
  }
}
