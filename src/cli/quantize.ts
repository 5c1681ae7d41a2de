import { parseFlags } from './args.ts';
import { ggufPrecision, writeGguf } from './convert.ts';

/** `alignkit quantize --model DIR --out model.gguf [--type q8_0|q4_0|f16|f32]`: a model as a quantized GGUF file. */
export async function run(argv: string[]): Promise<number> {
  const { values } = parseFlags(argv, {
    model: { type: 'string' },
    tokenizer: { type: 'string' },
    out: { type: 'string' },
    type: { type: 'string' },
  });
  return writeGguf(values, ggufPrecision(values.type ?? 'q8_0', '--type'));
}
