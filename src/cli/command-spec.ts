/**
 * The declarative command specification: every command and subcommand is declared once — its
 * options (util/option-spec.ts: type, default, range or choices, description, identity), a
 * paragraph, examples — and parsing, validation, `--help`, `--config` files and the README's
 * command reference are derived from it.
 */
import type { RunTarget } from '../run/run-session.ts';
import type { ProgressRenderer } from '../run/progress.ts';
import type { OptionSpecs, OptionValues } from '../util/option-spec.ts';

/** Positional arguments (e.g. the run folders of `alignkit report DIR...`). */
export interface PositionalSpec {
  /** what one is called in the usage line, e.g. DIR */
  name: string;
  /** and in words, e.g. "run folder" */
  noun: string;
  description: string;
  min: number;
  /** default: no limit */
  max?: number;
}

export interface Command<S extends OptionSpecs = OptionSpecs> {
  kind: 'command';
  /** the words that select it, e.g. "train sft" */
  name: string;
  /** one line, shown in its group's list */
  summary: string;
  /** a paragraph for its help page and the README */
  description: string;
  /** whole command lines (without the leading "alignkit") */
  examples: readonly string[];
  options: S;
  positionals?: PositionalSpec;
  /** the command's work: typed values in, exit code out; it prints, library functions compute */
  run(values: OptionValues<S>, context: CommandContext): Promise<number>;
}

/** What the dispatcher gives a command besides its values. */
export interface CommandContext {
  positionals: string[];
  /** the renderer of the command's progress (stopped when the command returns) */
  progress: ProgressRenderer;
  /** the values of the options the specification marks as part of a run's identity, by flag */
  identity: Record<string, unknown>;
  /**
   * where and how its run goes: --out, --resume, the resume identity (the values of the options
   * the specification marks as identity), progress and warnings — the library function's RunTarget
   */
  runTarget(): RunTarget;
}

export interface CommandGroup {
  kind: 'group';
  name: string;
  /** what its commands are called in usage lines and errors: "method", "objective" (default "command") */
  noun?: string;
  summary: string;
  description: string;
  commands: readonly AnyCommand[];
  /** the command run when flags follow the group's name directly (`steer --compare a,b` is `steer compare`) */
  defaultCommand?: string;
}

/** A command of any options (each command's `run` still sees its own typed values), or a group. */
export type AnyCommand = Command<OptionSpecs> | CommandGroup;

/** Declares a command; `as const` on the options keeps their literal types, so values are typed. */
export function command<const S extends OptionSpecs>(spec: Omit<Command<S>, 'kind'>): Command<S> {
  return { kind: 'command', ...spec };
}

export function group(spec: Omit<CommandGroup, 'kind'>): CommandGroup {
  return { kind: 'group', ...spec };
}

/** Options every command takes; they are never part of a run's identity. */
export const COMMON_OPTIONS = {
  config: {
    type: 'string',
    placeholder: 'FILE',
    description: 'a YAML or JSON file with the same keys as the flags (camelCase or kebab-case); flags win',
    identity: false,
    group: 'common',
  },
  debug: {
    type: 'boolean',
    description: 'print the stack trace of an error',
    identity: false,
    group: 'common',
  },
  help: { type: 'boolean', flag: 'help', description: 'print this help (also -h)', identity: false, group: 'common' },
} as const satisfies OptionSpecs;
