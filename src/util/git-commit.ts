/**
 * The commit a checkout is at, as run records name it: the short hash (10 hex digits), with
 * "+changes" when tracked files differ from it (but for the paths `ignoring` names: the outputs of
 * the script asking); undefined outside a git checkout (an installed package), so a record never
 * names a commit it cannot know.
 */
import { execFileSync } from 'node:child_process';

export function gitCommit(dir: string, ignoring: readonly string[] = []): string | undefined {
  const git = (...args: string[]) =>
    execFileSync('git', args, { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  try {
    const commit = git('rev-parse', '--short=10', 'HEAD');
    const changed = git('status', '--porcelain', '--untracked-files=no', '--', '.', ...ignoring.map((p) => `:!${p}`));
    return changed ? `${commit}+changes` : commit;
  } catch {
    return undefined;
  }
}
