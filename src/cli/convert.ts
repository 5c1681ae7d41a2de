import { parseFlags, requireFlag } from './args.ts';
import { readLocalCheckpoint } from '../lm/load.ts';
import { saveCheckpoint } from '../lm/save-checkpoint.ts';
import { saveGguf } from '../lm/save-gguf.ts';
import { GGUF_PRECISIONS, type GgufPrecision } from '../models/gguf/gguf-model.ts';
import { inputError } from '../errors.ts';

/**
 * Writes any local model (llama2.c .bin, HF directory, GGUF) as an HF directory, or with
 * `--to gguf [--quantize f32|f16|q8_0|q4_0]` as one GGUF file.
 */
export async function run(argv: string[]): Promise<number> {
  const { values } = parseFlags(argv, {
    model: { type: 'string' },
    tokenizer: { type: 'string' },
    out: { type: 'string' },
    to: { type: 'string' },
    dtype: { type: 'string' },
    quantize: { type: 'string' },
  });
  const to = values.to ?? 'hf';
  if (to !== 'hf' && to !== 'gguf') throw inputError(`--to expects hf or gguf, got "${to}"`, { field: '--to' });
  if (to === 'gguf') {
    if (values.dtype !== undefined)
      throw inputError('--dtype is for --to hf; GGUF takes --quantize', { field: '--dtype' });
    return writeGguf(values, ggufPrecision(values.quantize ?? 'f32', '--quantize'));
  }
  if (values.quantize !== undefined) throw inputError('--quantize needs --to gguf', { field: '--quantize' });
  const dtype = (values.dtype ?? 'float32') as string;
  const dtypes = { float32: 'F32', float16: 'F16', bfloat16: 'BF16' } as const;
  if (!(dtype in dtypes)) throw inputError(`--dtype expects float32, float16 or bfloat16, got "${dtype}"`);
  const ckpt = readLocalCheckpoint(requireFlag(values, 'model'), values.tokenizer);
  for (const note of ckpt.notes ?? []) console.log(`read ${ckpt.source}: ${note}`);
  const out = requireFlag(values, 'out');
  saveCheckpoint(out, ckpt.config, ckpt.weights, ckpt.tokenizer, { dtype: dtypes[dtype as keyof typeof dtypes] });
  console.log(
    `wrote ${out} (${ckpt.config.architecture}, ${ckpt.config.numLayers} layers, vocab ${ckpt.config.vocabSize})`,
  );
  return 0;
}

export function ggufPrecision(value: string, flag: string): GgufPrecision {
  if (!(GGUF_PRECISIONS as readonly string[]).includes(value))
    throw inputError(`${flag} expects ${GGUF_PRECISIONS.join(', ')}, got "${value}"`, { field: flag });
  return value as GgufPrecision;
}

/** Shared with `alignkit quantize`. */
export function writeGguf(
  values: { model?: string; tokenizer?: string; out?: string },
  precision: GgufPrecision,
): number {
  const ckpt = readLocalCheckpoint(requireFlag(values, 'model'), values.tokenizer);
  for (const note of ckpt.notes ?? []) console.log(`read ${ckpt.source}: ${note}`);
  const out = requireFlag(values, 'out');
  const written = saveGguf(out, ckpt, precision);
  const types = Object.entries(written.storedTypes)
    .map(([type, n]) => `${n} ${type}`)
    .join(', ');
  console.log(`wrote ${out} (GGUF ${written.architecture}, ${precision}: ${types} tensors)`);
  for (const note of written.notes) console.log(`note: ${note}`);
  return 0;
}
