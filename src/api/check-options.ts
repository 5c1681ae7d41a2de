/**
 * Runtime checks of the library API's option objects, by the same option specifications as the
 * CLI (option-sources.ts): a missing or ill-typed option throws the AlignkitError the CLI would
 * throw for its flag, with the option named by its key ("beams" for `--beams`).
 * Callbacks and in-memory objects (progress callbacks, prompt formats, reward functions) are
 * not flags; each function names the ones it takes besides its options.
 */
import { inputError } from '../errors.ts';
import type { ProgressCallback } from '../run/progress.ts';
import type { RunTarget } from '../run/run-session.ts';
import { identityOf, resolveOptions, type OptionNaming, type OptionSpecs } from '../util/option-spec.ts';
import { OPTION_SOURCES, type OptionSourceName } from './option-sources.ts';

const apiNaming: OptionNaming = { noun: 'option', name: (key) => `"${key}"`, where: () => ({}) };

/** The options an API function checks and the ones it passes on unchecked (callbacks and objects). */
export interface CheckedOptions {
  values: Record<string, unknown>;
  rest: Record<string, unknown>;
  specs: OptionSpecs;
}

/**
 * `options` checked against the specification `source` (defaults filled in); `passThrough` names
 * the keys that are not flags. `fn` is named when `options` is not an object at all. The
 * specification loads on first use (with its command's module).
 */
export async function checkOptions(
  source: OptionSourceName,
  fn: string,
  options: unknown,
  passThrough: readonly string[] = [],
): Promise<CheckedOptions> {
  if (options === undefined) options = {};
  if (typeof options !== 'object' || options === null || Array.isArray(options))
    throw inputError(`${fn} expects an options object, got ${Array.isArray(options) ? 'an array' : String(options)}`);
  const specs = await OPTION_SOURCES[source].specs();
  const flags: Record<string, unknown> = {};
  const rest: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(options)) (passThrough.includes(key) ? rest : flags)[key] = value;
  return { values: resolveOptions(specs, flags, apiNaming), rest, specs };
}

/** Callbacks of a function that writes a run folder. */
export interface RunCallbacks {
  /** progress of the work (default: none) */
  onProgress?: ProgressCallback;
  /** hears that a stale lock was taken over (default: process.emitWarning) */
  onWarning?: (message: string) => void;
}

/** The callback keys of RunCallbacks, passed on unchecked. */
export const RUN_CALLBACKS = ['onProgress', 'onWarning'] as const;

/** The run folder, resume identity and callbacks of a run, as the CLI's dispatcher builds them. */
export function runTargetOf({ values, rest, specs }: CheckedOptions): RunTarget {
  return {
    out: values.out as string,
    resume: values.resume === true,
    identity: identityOf(specs, values),
    onProgress: rest.onProgress as RunCallbacks['onProgress'],
    onWarning: rest.onWarning as RunCallbacks['onWarning'],
  };
}
