/**
 * `alignkit <command> [<subcommand>] [flags]`: finds the command in the specification, prints its
 * help or parses its flags, and runs it; errors are one line (the stack with --debug).
 */
import { AlignkitError, inputError } from '../errors.ts';
import { progressRenderer } from '../run/progress.ts';
import { versions } from '../run/run-dir.ts';
import { identityOf } from '../util/option-spec.ts';
import { listenToModelNotes } from '../lm/model-notes.ts';
import { group, type AnyCommand, type Command, type CommandGroup } from './command-spec.ts';
import { renderHelp } from './help.ts';
import { parseCommandLine } from './parse-command-line.ts';

/**
 * Every top-level command, in the order help lists them, and the module that declares it: a
 * command line loads only its own (start-up stays small), help for alignkit itself loads them all.
 */
const COMMAND_MODULES: readonly { name: string; load: () => Promise<AnyCommand> }[] = [
  { name: 'generate', load: async () => (await import('./inference.ts')).generateCommand },
  { name: 'score', load: async () => (await import('./inference.ts')).scoreCommand },
  { name: 'convert', load: async () => (await import('./inference.ts')).convertCommand },
  { name: 'quantize', load: async () => (await import('./inference.ts')).quantizeCommand },
  { name: 'bench', load: async () => (await import('./bench.ts')).benchCommand },
  { name: 'train', load: async () => (await import('./train.ts')).train },
  { name: 'sweep', load: async () => (await import('./sweep.ts')).sweepGroup },
  { name: 'steer', load: async () => (await import('./steer.ts')).steerGroup },
  { name: 'serve', load: async () => (await import('./serve.ts')).serveCommand },
  { name: 'playground', load: async () => (await import('./playground.ts')).playgroundCommand },
  { name: 'eval', load: async () => (await import('./eval.ts')).evalGroup },
  { name: 'probe', load: async () => (await import('./probe.ts')).probeGroup },
  { name: 'improve', load: async () => (await import('./improve.ts')).improveCommand },
  { name: 'concepts', load: async () => (await import('./concepts.ts')).conceptsGroup },
  { name: 'report', load: async () => (await import('./report.ts')).reportCommand },
  { name: 'demo', load: async () => (await import('./demo.ts')).demoCommand },
];

/** The whole command specification, every command loaded: alignkit's own help, the README, tests. */
export async function commandTree(): Promise<CommandGroup> {
  return group({
    name: '',
    summary: 'alignkit',
    description: 'Train, steer, evaluate and probe language models, in TypeScript on onnxruntime.',
    commands: await Promise.all(COMMAND_MODULES.map((m) => m.load())),
  });
}

const lastWord = (name: string) => name.split(' ').at(-1)!;
const isHelp = (token: string | undefined) => token === '--help' || token === '-h' || token === 'help';

/** The command `argv` names and the arguments after its words; a group when no subcommand is named. */
export async function findCommand(argv: readonly string[]): Promise<{ target: AnyCommand; rest: string[] }> {
  const first = argv[0];
  const module = COMMAND_MODULES.find((m) => m.name === first);
  let target: AnyCommand = module ? await module.load() : await commandTree();
  let i = module ? 1 : 0;
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
  const stopNotes = printModelNotesOnce();
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
    stopNotes();
    progress.stop();
  }
}

/** What loading each model decided (a GGUF file's tensor types, a fallback), on stderr, each note once. */
function printModelNotesOnce(): () => void {
  const said = new Set<string>();
  return listenToModelNotes((model, note) => {
    const line = `note: ${model}: ${note}`;
    if (!said.has(line)) console.error(line);
    said.add(line);
  });
}

/** The name of the deepest command or group `argv` names ('' when its first word is no command). */
async function knownCommandName(argv: readonly string[]): Promise<string> {
  const module = COMMAND_MODULES.find((m) => m.name === argv[0]);
  if (!module) return '';
  let node: AnyCommand = await module.load();
  for (const word of argv.slice(1)) {
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
  const { target, rest } = await findCommand(argv);
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
    const name = await knownCommandName(argv);
    const prefix = name ? `alignkit ${name}` : 'alignkit';
    if (argv.includes('--debug')) console.error(e);
    else if (e instanceof AlignkitError) console.error(`${prefix}: ${e.message}`);
    else console.error(`${prefix}: ${(e as Error)?.message ?? e} (run with --debug for the stack)`);
    return name ? 1 : 2; // 2: not even the command is known
  }
}
