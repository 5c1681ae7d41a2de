/**
 * `alignkit <command> [<subcommand>] [flags]`: finds the command in the specification, prints its
 * help or parses its flags, and runs it; errors are one line (the stack with --debug).
 */
import { AlignkitError, inputError } from '../errors.ts';
import { progressRenderer } from '../run/progress.ts';
import { versions } from '../run/run-dir.ts';
import { identityOf } from '../util/option-spec.ts';
import { benchCommand } from './bench.ts';
import { group, type AnyCommand, type Command, type CommandGroup } from './command-spec.ts';
import { conceptsGroup } from './concepts.ts';
import { demoCommand } from './demo.ts';
import { evalGroup } from './eval.ts';
import { renderHelp } from './help.ts';
import { improveCommand } from './improve.ts';
import { convertCommand, generateCommand, quantizeCommand, scoreCommand } from './inference.ts';
import { parseCommandLine } from './parse-command-line.ts';
import { probeGroup } from './probe.ts';
import { reportCommand } from './report.ts';
import { serveCommand } from './serve.ts';
import { steerGroup } from './steer.ts';
import { sweepGroup } from './sweep.ts';
import { train } from './train.ts';

/** Every command alignkit has, in the order help lists them. */
export const ROOT: CommandGroup = group({
  name: '',
  summary: 'alignkit',
  description: 'Train, steer, evaluate and probe language models, in TypeScript on onnxruntime.',
  commands: [
    generateCommand,
    scoreCommand,
    convertCommand,
    quantizeCommand,
    benchCommand,
    train,
    sweepGroup,
    steerGroup,
    serveCommand,
    evalGroup,
    probeGroup,
    improveCommand,
    conceptsGroup,
    reportCommand,
    demoCommand,
  ],
});

const lastWord = (name: string) => name.split(' ').at(-1)!;
const isHelp = (token: string | undefined) => token === '--help' || token === '-h' || token === 'help';

/** The command `argv` names and the arguments after its words; a group when no subcommand is named. */
export function findCommand(argv: readonly string[]): { target: AnyCommand; rest: string[] } {
  let target: AnyCommand = ROOT;
  let i = 0;
  while (target.kind === 'group' && i < argv.length && !argv[i].startsWith('-') && !isHelp(argv[i])) {
    const word = argv[i];
    const child: AnyCommand | undefined = target.commands.find((c) => lastWord(c.name) === word);
    if (!child) {
      const choices = target.commands.map((c) => lastWord(c.name)).join(', ');
      throw inputError(`unknown ${target.noun ?? 'command'} "${word}" (expected one of: ${choices})`);
    }
    target = child;
    i++;
  }
  const rest = argv.slice(i);
  if (target.kind === 'group' && target.defaultCommand && rest.length && !isHelp(rest[0])) {
    const name = target.defaultCommand;
    target = target.commands.find((c) => lastWord(c.name) === name)!;
  }
  return { target, rest };
}

async function runCommand(command: Command, argv: readonly string[]): Promise<number> {
  const parsed = parseCommandLine(command, argv);
  if (parsed.help) {
    console.log(renderHelp(command));
    return 0;
  }
  const progress = progressRenderer(command.name);
  const identity = identityOf(command.options, parsed.values);
  try {
    return await command.run(parsed.values, {
      positionals: parsed.positionals,
      progress,
      identity,
      runTarget: () => {
        const { out, resume } = parsed.values as { out?: unknown; resume?: unknown };
        if (typeof out !== 'string') throw new AlignkitError('internal', `${command.name} has no --out`);
        return {
          out,
          resume: resume === true,
          identity,
          onProgress: progress.update,
          onWarning: (message: string) => {
            progress.stop();
            console.error(`alignkit ${command.name}: warning: ${message}`);
          },
        };
      },
    });
  } finally {
    progress.stop();
  }
}

/** The name of the deepest command or group `argv` names ('' when its first word is no command). */
function knownCommandName(argv: readonly string[]): string {
  let node: AnyCommand = ROOT;
  for (const word of argv) {
    if (node.kind !== 'group') break;
    const child: AnyCommand | undefined = node.commands.find((c) => lastWord(c.name) === word);
    if (!child) break;
    node = child;
  }
  return node.name;
}

/**
 * Runs the command `argv` names (help for a group or with --help): the exit code, or the error
 * thrown (tests call this; `main` prints errors).
 */
export async function run(argv: readonly string[]): Promise<number> {
  const { target, rest } = findCommand(argv);
  if (target.kind === 'command') return runCommand(target, rest);
  if (rest.length && !isHelp(rest[0]))
    throw inputError(
      `name the ${target.name} command before the flags (one of: ${target.commands.map((c) => lastWord(c.name)).join(', ')})`,
    );
  console.log(renderHelp(target));
  return rest.some(isHelp) ? 0 : 1;
}

/** The command line's entry point: `alignkit --version`, or the command, with errors printed on one line. */
export async function main(argv: string[]): Promise<number> {
  if (argv[0] === '--version' || argv[0] === '-V') {
    console.log(versions().alignkit);
    return 0;
  }
  try {
    return await run(argv);
  } catch (e) {
    const name = knownCommandName(argv);
    const prefix = name ? `alignkit ${name}` : 'alignkit';
    if (argv.includes('--debug')) console.error(e);
    else if (e instanceof AlignkitError) console.error(`${prefix}: ${e.message}`);
    else console.error(`${prefix}: ${(e as Error)?.message ?? e} (run with --debug for the stack)`);
    return name ? 1 : 2; // 2: not even the command is known
  }
}
