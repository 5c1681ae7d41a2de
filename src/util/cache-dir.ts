import { homedir } from 'node:os';
import { join } from 'node:path';

/** alignkit's cache folder for `kind`: $ALIGNKIT_CACHE_DIR, $XDG_CACHE_HOME/alignkit or ~/.cache/alignkit. */
export function defaultCacheDir(kind: string): string {
  const base =
    process.env.ALIGNKIT_CACHE_DIR ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'alignkit');
  return join(base, kind);
}
