/** Help pages and the README's command reference, both written from the command specification. */
import { expectation, flagOf, type OptionSpec, type OptionSpecs } from '../util/option-spec.ts';
import { COMMON_OPTIONS, type AnyCommand, type Command, type CommandGroup } from './command-spec.ts';

const WIDTH = 100;

function placeholder(spec: OptionSpec): string {
  if (spec.type === 'boolean') return '';
  if (spec.placeholder) return spec.placeholder;
  if (spec.type === 'string' && spec.choices) return spec.choices.join('|');
  if (spec.type === 'list') return spec.choices ? `${spec.choices.join(',')}` : 'LIST';
  return spec.type === 'integer' ? 'N' : spec.type === 'number' ? 'X' : 'TEXT';
}

const showDefault = (value: unknown): string =>
  Array.isArray(value) ? value.join(',') : value === Infinity ? 'inf' : String(value);

/** What help adds after the description: default, range, required, repeatable. */
function details(spec: OptionSpec): string[] {
  const out: string[] = [];
  if (spec.required) out.push('required');
  if (spec.default !== undefined && !(Array.isArray(spec.default) && spec.default.length === 0))
    out.push(`default ${showDefault(spec.default)}`);
  const ranged =
    (spec.type === 'number' || spec.type === 'integer') && (spec.min !== undefined || spec.max !== undefined);
  if (ranged || (spec.type === 'list' && spec.min !== undefined)) out.push(expectation(spec).replace(/^an? /, ''));
  if (spec.type === 'string' && spec.repeatable) out.push('repeatable');
  if (spec.type === 'list') out.push('comma-separated, repeatable');
  return out;
}

function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines;
}

export function flagUsage(key: string, spec: OptionSpec): string {
  const value = placeholder(spec);
  return `--${flagOf(key, spec)}${value ? ` ${value}` : ''}`;
}

export function flagDescription(spec: OptionSpec): string {
  const extra = details(spec);
  return `${spec.description}${extra.length ? ` (${extra.join('; ')})` : ''}`;
}

/** Options grouped by their `group` (in order of first appearance), ungrouped first. */
function grouped(specs: OptionSpecs): [string, [string, OptionSpec][]][] {
  const groups = new Map<string, [string, OptionSpec][]>();
  for (const [key, spec] of Object.entries(specs)) {
    const name = spec.group ?? 'flags';
    groups.set(name, [...(groups.get(name) ?? []), [key, spec]]);
  }
  return [...groups];
}

function commandHelp(command: Command): string {
  const specs: OptionSpecs = { ...command.options, ...COMMON_OPTIONS };
  const usage = `usage: alignkit ${command.name}${command.positionals ? ` ${command.positionals.name}...` : ''} [flags]`;
  const lines = [usage, '', ...wrap(command.description, WIDTH)];
  if (command.positionals) lines.push('', `  ${command.positionals.name}  ${command.positionals.description}`);
  const column = Math.min(32, Math.max(...Object.entries(specs).map(([key, spec]) => flagUsage(key, spec).length)) + 4);
  for (const [name, entries] of grouped(specs)) {
    lines.push('', `${name}:`);
    for (const [key, spec] of entries) {
      const head = `  ${flagUsage(key, spec)}`;
      const text = wrap(flagDescription(spec), WIDTH - column);
      if (head.length + 2 > column) lines.push(head, ...text.map((t) => ' '.repeat(column) + t));
      else lines.push(head.padEnd(column) + text[0], ...text.slice(1).map((t) => ' '.repeat(column) + t));
    }
  }
  lines.push('', command.examples.length > 1 ? 'examples:' : 'example:');
  for (const example of command.examples) lines.push(`  alignkit ${example}`);
  return lines.join('\n');
}

function groupHelp(group: CommandGroup, usage: string): string {
  const width = Math.max(...group.commands.map((c) => lastWord(c.name).length));
  return [
    usage,
    '',
    ...wrap(group.description, WIDTH),
    '',
    ...group.commands.map((c) => `  ${lastWord(c.name).padEnd(width)}  ${c.summary}`),
    '',
    `Run \`alignkit ${group.name ? `${group.name} ` : ''}<${group.noun ?? 'command'}> --help\` for its flags and an example.`,
  ].join('\n');
}

const lastWord = (name: string) => name.split(' ').at(-1)!;

/** The help page of a command, or the list of a group's commands. */
export function renderHelp(target: AnyCommand): string {
  if (target.kind === 'command') return commandHelp(target);
  const usage = target.name
    ? `usage: alignkit ${target.name} <${target.noun ?? 'command'}> [flags]`
    : 'usage: alignkit <command> [flags]   (alignkit --version prints the version)';
  return groupHelp(target, usage);
}

const escapeCell = (text: string) => text.replace(/\|/g, '\\|');

/** The README's command reference: every command (folded) with its description, example and flags. */
export function renderCommandReference(root: CommandGroup): string {
  const sections: string[] = [];
  const visit = (node: AnyCommand) => {
    if (node.kind === 'group') {
      for (const child of node.commands) visit(child);
      return;
    }
    const rows = Object.entries(node.options).map(
      ([key, spec]) => `| \`${flagUsage(key, spec)}\` | ${escapeCell(flagDescription(spec))} |`,
    );
    sections.push(
      [
        `<details><summary><code>alignkit ${node.name}</code>: ${node.summary}</summary>`,
        '',
        node.description,
        '',
        '```sh',
        ...node.examples.map((e) => `alignkit ${e}`),
        '```',
        ...(rows.length ? ['', '| flag | meaning |', '| --- | --- |', ...rows] : []),
        '',
        '</details>',
      ].join('\n'),
    );
  };
  visit(root);
  const common = Object.entries(COMMON_OPTIONS)
    .map(([key, spec]) => `\`${flagUsage(key, spec)}\` ${spec.description}`)
    .join('; ');
  // prettier would re-align the tables; the section is kept exactly as generated
  return [
    '<!-- prettier-ignore-start -->',
    `Every command also takes: ${common}.`,
    '',
    sections.join('\n\n'),
    '<!-- prettier-ignore-end -->',
  ].join('\n');
}
