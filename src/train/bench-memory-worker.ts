/**
 * Child process of measureTrainingMemory (bench.ts): trains two steps of a bench shape, full or
 * LoRA, and sends its peak RSS to the parent over IPC.
 */
import { randomInitWeights } from '../models/random-init.ts';
import { BENCH_SHAPES, sftBatch, timeTrainingStep } from './bench.ts';
import { sftObjective } from './sft-objective.ts';
import { defaultLoraTargets } from './lora.ts';

const [shapeName, mode, frozen] = process.argv.slice(2) as ['llama' | 'gpt2', 'full' | 'lora', 'initializer' | 'input'];
const shape = BENCH_SHAPES[shapeName];
const weights = randomInitWeights(shape.config, 0);
let weightBytes = 0,
  trained = 0;
for (const t of weights.values()) weightBytes += t.data.byteLength;
const lora = mode === 'lora' ? { rank: 8, alpha: 16, targets: defaultLoraTargets(shape.config) } : undefined;
await timeTrainingStep(
  { shape, objective: sftObjective(), items: sftBatch(shape), lora, frozen },
  { steps: 1, warmup: 1, weights },
);
trained = mode === 'full' ? weightBytes / 4 : 0;
process.send!({ peakRss: process.resourceUsage().maxRSS * 1024, weightBytes, trainedParameters: trained });
