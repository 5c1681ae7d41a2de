/**
 * Child process of measureTrainingMemory and measureQloraMemory (bench.ts): trains a bench shape,
 * full or LoRA, or LoRA over a random-weight GGUF file at a given precision (its quantized
 * matrices kept as block codes), and sends its peak RSS to the parent over IPC.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomInitWeights } from '../models/random-init.ts';
import { readGgufModel, type GgufPrecision } from '../models/gguf/gguf-model.ts';
import { writeRandomGguf } from '../models/gguf/random-gguf.ts';
import { BENCH_SHAPES, QLORA_SHAPE, sftBatch, timeTrainingStep } from './bench.ts';
import { sftObjective } from './sft-objective.ts';
import { defaultLoraTargets } from './lora.ts';
import { peakRssBytes } from '../util/peak-rss.ts';

const [shapeName, mode, frozen, precision] = process.argv.slice(2) as [
  'llama' | 'gpt2' | 'qlora',
  'full' | 'lora',
  'initializer' | 'input',
  GgufPrecision | undefined,
];

if (shapeName === 'qlora') {
  // the file is written by this process, one tensor at a time; its page cache is not this process's memory
  const dir = mkdtempSync(join(tmpdir(), 'alignkit-qlora-bench-'));
  try {
    const file = join(dir, 'model.gguf');
    const fileBytes = writeRandomGguf(file, QLORA_SHAPE.config, precision!, 1);
    const model = readGgufModel(file, { keepQuantized: precision !== 'f32' });
    const timing = await timeTrainingStep(
      {
        shape: QLORA_SHAPE,
        objective: sftObjective(),
        items: sftBatch(QLORA_SHAPE),
        lora: { rank: 8, alpha: 16, targets: ['q_proj', 'v_proj'] },
        frozen,
        quantized: model.quantized,
      },
      { steps: 1, warmup: 1, weights: model.weights },
    );
    process.send!({
      peakRss: peakRssBytes(),
      weightBytes: fileBytes,
      trainedParameters: 0,
      stepMs: timing.medianMs,
    });
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
