/**
 * What makes a resumed run the same run: the command and the settings that change what it
 * computes (the command specification marks them; output folder, concurrency or API keys do
 * not count). A `--resume` whose identity differs from the one recorded in config.json is
 * refused, naming the first setting that differs.
 */
import { inputError } from '../errors.ts';

/** Identity keys are option names as the user typed them (flags, without the dashes). */
export type ResumeIdentity = Record<string, unknown>;

const show = (v: unknown) => (v === undefined ? 'unset' : JSON.stringify(v));

/** Refuses a resume whose command or identity differs from what `previous` (the run's config.json) recorded. */
export function checkResumeIdentity(
  dir: string,
  previous: { command?: unknown; identity?: unknown } | undefined,
  command: string,
  identity: ResumeIdentity,
): void {
  if (!previous) return;
  if (previous.command !== undefined && previous.command !== command)
    throw inputError(`${dir} holds a ${String(previous.command)} run, not ${command}; choose another --out`, {
      field: '--out',
    });
  const before = previous.identity as ResumeIdentity | undefined;
  if (!before || typeof before !== 'object') return; // written before identities were recorded
  for (const key of new Set([...Object.keys(before), ...Object.keys(identity)])) {
    const was = JSON.stringify(before[key] ?? null);
    const now = JSON.stringify(identity[key] ?? null);
    if (was !== now)
      throw inputError(
        `--resume with a different --${key} than the run in ${dir} (${show(before[key])} before, ${show(identity[key])} now); resume with the same settings or choose another --out`,
        { field: `--${key}` },
      );
  }
}
