/**
 * `alignkit train <objective>`: a dispatch table of subcommands, each in its own file
 * exporting `run(argv)`. Other objectives (value, modpo, ilr-dpo) add their line here.
 */
import { inputError } from '../errors.ts';

const subcommands: Record<string, { file: string; summary: string }> = {
  sft: { file: './train-sft.ts', summary: 'supervised fine-tuning on prompt/completion data (prompt tokens masked)' },
  rm: {
    file: './train-rm.ts',
    summary: 'Bradley-Terry reward model on preference pairs (scalar head at the last token)',
  },
  value: {
    file: './train-value.ts',
    summary:
      'explicit value model for IVG: a scalar head regressed on the final reward at every prefix of sampled responses',
  },
  dpo: { file: './train-dpo.ts', summary: 'direct preference optimization against cached reference log-probs' },
  modpo: {
    file: './train-modpo.ts',
    summary:
      "multi-objective DPO: one objective's pairs, the others as cached margin rewards (--weights, --margin-models)",
  },
  'ilr-dpo': {
    file: './train-ilr-dpo.ts',
    summary: 'iterative length-regularized DPO: sample, score, pair best vs worst, train, evaluate, repeat',
  },
};

export function trainUsage(): string {
  const width = Math.max(...Object.keys(subcommands).map((c) => c.length));
  return [
    'usage: alignkit train <objective> --model PATH --data FILE --out DIR [flags]',
    '',
    ...Object.entries(subcommands).map(([c, s]) => `  ${c.padEnd(width)}  ${s.summary}`),
  ].join('\n');
}

export async function run(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h') {
    console.log(trainUsage());
    return name ? 0 : 1;
  }
  const sub = Object.hasOwn(subcommands, name) ? subcommands[name] : undefined;
  if (!sub) throw inputError(`unknown objective "${name}" (expected one of: ${Object.keys(subcommands).join(', ')})`);
  const mod = await import(sub.file);
  return mod.run(rest);
}
