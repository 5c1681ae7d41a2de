/**
 * `alignkit sweep <family>`: trains a family of models over a grid of settings and evaluates
 * each member. A dispatch table of subcommands, each in its own file.
 */
import { inputError } from '../errors.ts';

const subcommands: Record<string, { file: string; summary: string }> = {
  modpo: {
    file: './sweep-modpo.ts',
    summary: 'MODPO over a range of preference weights, every member evaluated on every objective (Pareto front)',
  },
};

export async function run(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h') {
    console.log(
      [
        'usage: alignkit sweep <family> [flags]',
        '',
        ...Object.entries(subcommands).map(([c, s]) => `  ${c}  ${s.summary}`),
      ].join('\n'),
    );
    return name ? 0 : 1;
  }
  const sub = Object.hasOwn(subcommands, name) ? subcommands[name] : undefined;
  if (!sub) throw inputError(`unknown sweep "${name}" (expected one of: ${Object.keys(subcommands).join(', ')})`);
  return (await import(sub.file)).run(rest);
}
