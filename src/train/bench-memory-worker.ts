/**
 * Child process of measureTrainingMemory, measureQloraMemory and qloraStepFigures (bench.ts): trains
 * a bench shape, full or LoRA, or LoRA over a GGUF file (a random-weight one it writes at a given
 * precision, or a given one), its quantized matrices kept as block codes, and sends its peak RSS
 * to the parent over IPC.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomInitWeights } from '../models/random-init.ts';
import { readGgufModel, type GgufPrecision } from '../models/gguf/gguf-model.ts';
import { writeRandomGguf } from '../models/gguf/random-gguf.ts';
import { BENCH_SHAPES, QLORA_FILE_SHAPE, QLORA_SHAPE, sftBatch, timeTrainingStep, type BenchShape } from './bench.ts';
import { sftObjective } from './sft-objective.ts';
import { defaultLoraTargets } from './lora.ts';
import { peakRssBytes } from '../util/peak-rss.ts';

const [shapeName, mode, frozen, precisionOrFile] = process.argv.slice(2) as [
  'llama' | 'gpt2' | 'qlora' | 'qlora-file',
  'full' | 'lora',
  'initializer' | 'input',
  string | undefined,
];

/** One LoRA (q, v; rank 8) step over a GGUF file, its quantized matrices kept as block codes, after a warm-up step. */
async function qloraStep(file: string, tokens: BenchShape, keepQuantized: boolean): Promise<number> {
  const model = readGgufModel(file, { keepQuantized });
  // the file's own config: the batch's token ids are drawn from its vocabulary
  const shape = { ...tokens, config: model.config };
  const timing = await timeTrainingStep(
    {
      shape,
      objective: sftObjective(),
      items: sftBatch(shape),
      lora: { rank: 8, alpha: 16, targets: ['q_proj', 'v_proj'] },
      frozen,
      quantized: model.quantized,
    },
    { steps: 1, warmup: 1, weights: model.weights },
  );
  return timing.medianMs;
}

if (shapeName === 'qlora-file') {
  // an existing file (the 8B bench's): its bytes are what the step's peak is set against
  const file = precisionOrFile!;
  const stepMs = await qloraStep(file, QLORA_FILE_SHAPE, true);
  process.send!({ peakRss: peakRssBytes(), weightBytes: statSync(file).size, trainedParameters: 0, stepMs });
} else if (shapeName === 'qlora') {
  // the file is written by this process, one tensor at a time; its page cache is not this process's memory
  const dir = mkdtempSync(join(tmpdir(), 'alignkit-qlora-bench-'));
  try {
    const file = join(dir, 'model.gguf');
    const precision = precisionOrFile as GgufPrecision;
    const fileBytes = writeRandomGguf(file, QLORA_SHAPE.config, precision, 1);
    const stepMs = await qloraStep(file, QLORA_SHAPE, precision !== 'f32');
    process.send!({ peakRss: peakRssBytes(), weightBytes: fileBytes, trainedParameters: 0, stepMs });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
} else {
  const shape = BENCH_SHAPES[shapeName];
  const weights = randomInitWeights(shape.config, 0);
  let weightBytes = 0;
  for (const t of weights.values()) weightBytes += t.data.byteLength;
  const lora = mode === 'lora' ? { rank: 8, alpha: 16, targets: defaultLoraTargets(shape.config) } : undefined;
  await timeTrainingStep(
    { shape, objective: sftObjective(), items: sftBatch(shape), lora, frozen },
    { steps: 1, warmup: 1, weights },
  );
  const trained = mode === 'full' ? weightBytes / 4 : 0;
  process.send!({ peakRss: peakRssBytes(), weightBytes, trainedParameters: trained });
}
