import { AlignkitError } from '../errors.ts';

/** Each command lives in its own file exporting `run(argv): Promise<number>`. */
const commands: Record<string, { file: string; summary: string }> = {
  generate: { file: './generate.ts', summary: 'sample text from a model' },
  score: { file: './score.ts', summary: 'log-probs of a continuation given a prompt' },
  convert: { file: './convert.ts', summary: 'write any model as an HF directory, or as GGUF (--to gguf)' },
  quantize: { file: './quantize.ts', summary: 'write a model as a quantized GGUF file (q8_0, q4_0)' },
  bench: { file: './bench.ts', summary: 'speed and memory figures' },
  train: { file: './train.ts', summary: 'train sft|rm|dpo|value|modpo|ilr-dpo' },
  sweep: { file: './sweep.ts', summary: 'train and evaluate a family (sweep modpo)' },
  steer: { file: './steer.ts', summary: 'inference-time alignment: bon, eft, ed, w2s, ivg' },
  serve: { file: './serve.ts', summary: 'OpenAI-compatible gateway' },
  eval: { file: './eval.ts', summary: 'mt-bench-101, conceptmath, winrate, safety' },
  probe: { file: './probe.ts', summary: 'collect hidden states and fit probes' },
  improve: { file: './improve.ts', summary: 'concept-targeted fine-tuning loop' },
  concepts: { file: './concepts.ts', summary: 'concept classify|retrieve|generate' },
  report: { file: './report.ts', summary: 'regenerate and compare run reports' },
  demo: { file: './demo.ts', summary: 'the main job on the embedded models' },
};

function usage(): string {
  const width = Math.max(...Object.keys(commands).map((c) => c.length));
  return [
    'usage: alignkit <command> [flags]',
    '',
    ...Object.entries(commands).map(([c, { summary }]) => `  ${c.padEnd(width)}  ${summary}`),
  ].join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    console.log(usage());
    return name ? 0 : 1;
  }
  const command = commands[name];
  if (!command) {
    console.error(`alignkit: unknown command "${name}"\n${usage()}`);
    return 2;
  }
  const debug = rest.includes('--debug');
  try {
    const mod = await import(command.file);
    return await mod.run(rest);
  } catch (e) {
    if (debug) console.error(e);
    else if (e instanceof AlignkitError) console.error(`alignkit ${name}: ${e.message}`);
    else console.error(`alignkit ${name}: ${(e as Error)?.message ?? e} (run with --debug for the stack)`);
    return 1;
  }
}
