/**
 * Command lines to typed values, by the command's specification: `--flag value`, `--flag=value`,
 * booleans without a value, repeatable and comma-separated flags, and values that start with a
 * dash (`--prompt-words -40` is a negative number, not an unknown flag). `--config FILE` supplies
 * the same keys; flags on the command line win. Every error names the flag (or the file and key).
 */
import { readFileSync } from 'node:fs';
import YAML from 'yaml';
import { inputError } from '../errors.ts';
import {
  flagNaming,
  flagOf,
  resolveOptions,
  type OptionNaming,
  type OptionSpecs,
  type OptionValues,
} from '../util/option-spec.ts';
import { COMMON_OPTIONS, type Command } from './command-spec.ts';

export interface ParsedCommandLine<S extends OptionSpecs> {
  /** `--help` or `-h` was given: print the help and nothing else */
  help: boolean;
  values: OptionValues<S & typeof COMMON_OPTIONS>;
  positionals: string[];
}

const takesValue = (spec: OptionSpecs[string]) => spec.type !== 'boolean';
const repeats = (spec: OptionSpecs[string]) => spec.type === 'list' || (spec.type === 'string' && !!spec.repeatable);

/** The flags of a spec, by the name typed after the dashes. */
function flagTable(specs: OptionSpecs): Map<string, string> {
  return new Map(Object.entries(specs).map(([key, spec]) => [flagOf(key, spec), key]));
}

/**
 * Reads `--config FILE`: its keys (camelCase or kebab-case) as raw values by option, with the key
 * as written (for errors); unknown keys are refused naming the file.
 */
function readConfigFile(
  file: string,
  specs: OptionSpecs,
): { values: Record<string, unknown>; written: Map<string, string> } {
  let parsed: unknown;
  try {
    const text = readFileSync(file, 'utf8');
    parsed = file.endsWith('.json') ? JSON.parse(text) : YAML.parse(text);
  } catch (e) {
    throw inputError(`cannot read the config file (${(e as Error).message})`, { file });
  }
  const written = new Map<string, string>();
  if (parsed === null || parsed === undefined) return { values: {}, written };
  if (typeof parsed !== 'object' || Array.isArray(parsed))
    throw inputError('expected a mapping of flag names to values', { file });
  const byFlag = flagTable(specs);
  const values: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(parsed)) {
    const key = name in specs ? name : byFlag.get(name);
    if (!key || key in COMMON_OPTIONS)
      throw inputError(
        `unknown key (expected one of: ${Object.keys(specs)
          .filter((k) => !(k in COMMON_OPTIONS))
          .join(', ')})`,
        { file, field: name },
      );
    values[key] = value;
    written.set(key, name);
  }
  return { values, written };
}

export function parseCommandLine<S extends OptionSpecs>(
  command: Command<S>,
  argv: readonly string[],
): ParsedCommandLine<S> {
  const specs: OptionSpecs = { ...command.options, ...COMMON_OPTIONS };
  const flags = flagTable(specs);
  const raw: Record<string, unknown> = {};
  const positionals: string[] = [];
  let help = false;
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i];
    if (token === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (token === '-h' || token === '--help') {
      help = true;
      continue;
    }
    if (!token.startsWith('--')) {
      if (token.startsWith('-') && token.length > 1 && !/^-[\d.]/.test(token))
        throw inputError(`unknown flag ${token} (flags are long: see alignkit ${command.name} --help)`);
      positionals.push(token);
      continue;
    }
    const eq = token.indexOf('=');
    const flag = token.slice(2, eq < 0 ? undefined : eq);
    const key = flags.get(flag);
    if (key === undefined) throw inputError(`unknown flag --${flag} (see alignkit ${command.name} --help)`);
    const spec = specs[key];
    let value: string | true;
    if (eq >= 0) value = token.slice(eq + 1);
    else if (!takesValue(spec)) value = true;
    else {
      const next = argv[i + 1];
      if (next === undefined || (next.startsWith('--') && next.length > 2))
        throw inputError(`--${flag} needs a value (${spec.placeholder ?? 'see --help'})`);
      value = next;
      i++;
    }
    if (repeats(spec)) raw[key] = [...((raw[key] as string[] | undefined) ?? []), value];
    else if (raw[key] !== undefined) throw inputError(`--${flag} is given twice`);
    else raw[key] = value;
  }
  if (help) return { help, values: {} as ParsedCommandLine<S>['values'], positionals };

  const { positionals: positional } = command;
  if (!positional && positionals.length)
    throw inputError(`unexpected argument "${positionals[0]}" (see alignkit ${command.name} --help)`);
  if (positional && positionals.length < positional.min)
    throw inputError(
      `expected at least ${positional.min === 1 ? 'one' : positional.min} ${positional.noun} (${positional.name})`,
    );
  if (positional?.max !== undefined && positionals.length > positional.max)
    throw inputError(
      `expected at most ${positional.max} ${positional.noun} (${positional.name}), got ${positionals.length}`,
    );

  const configFile = typeof raw.config === 'string' ? raw.config : undefined;
  const fromFile = configFile ? readConfigFile(configFile, specs) : undefined;
  const naming: OptionNaming = {
    ...flagNaming(specs),
    where: (key) => (key in raw || !fromFile ? {} : { file: configFile, field: fromFile.written.get(key) ?? key }),
  };
  const values = resolveOptions(specs, { ...fromFile?.values, ...raw }, naming);
  return { help, values: values as ParsedCommandLine<S>['values'], positionals };
}
