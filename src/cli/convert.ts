import { parseFlags, requireFlag } from './args.ts';
import { readLocalCheckpoint } from '../lm/load.ts';
import { saveCheckpoint } from '../lm/save-checkpoint.ts';
import { inputError } from '../errors.ts';

/** Writes any local model (llama2.c .bin or HF directory) as an HF directory with its tokenizer. */
export async function run(argv: string[]): Promise<number> {
  const { values } = parseFlags(argv, {
    model: { type: 'string' },
    tokenizer: { type: 'string' },
    out: { type: 'string' },
    dtype: { type: 'string' },
  });
  const dtype = (values.dtype ?? 'float32') as string;
  const dtypes = { float32: 'F32', float16: 'F16', bfloat16: 'BF16' } as const;
  if (!(dtype in dtypes)) throw inputError(`--dtype expects float32, float16 or bfloat16, got "${dtype}"`);
  const ckpt = readLocalCheckpoint(requireFlag(values, 'model'), values.tokenizer);
  const out = requireFlag(values, 'out');
  saveCheckpoint(out, ckpt.config, ckpt.weights, ckpt.tokenizer, { dtype: dtypes[dtype as keyof typeof dtypes] });
  console.log(
    `wrote ${out} (${ckpt.config.architecture}, ${ckpt.config.numLayers} layers, vocab ${ckpt.config.vocabSize})`,
  );
  return 0;
}
