/**
 * The recipe of the embedded models. "large" is the real pretrained stories260K (Karpathy's
 * tinyllamas, MIT; llama2.c format, read into an HF directory unchanged). "small" is a ~56 K
 * parameter llama on the same 512-token vocabulary, trained from scratch by alignkit's own
 * trainer on stories sampled from stories260K plus the TinyStories sample — so the pair shares
 * its tokenizer and its world, at a large-to-small ratio like the paper's GPT-2 pairs.
 * Deterministic in the seed. `npm run embedded:train` runs it and rewrites embedded/.
 */
import { copyFileSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ModelConfig } from '../models/config.ts';
import { randomInitWeights } from '../models/random-init.ts';
import { readLocalCheckpoint, loadModel } from '../lm/load.ts';
import { requireScoring } from '../lm/language-model.ts';
import { saveCheckpoint } from '../lm/save-checkpoint.ts';
import { readHfDirectory } from '../models/hf-directory.ts';
import { train, FINAL_MODEL_DIR, type TrainProgress } from '../train/trainer.ts';
import { sftObjective } from '../train/sft-objective.ts';
import { defaultOptimizer } from '../train/optimizer.ts';
import type { SftExample } from '../train/examples.ts';
import { createRng } from '../util/random.ts';
import { storyOpenings, STORY_OPENINGS_FILE } from './story-openings.ts';

export const EMBEDDED_RECIPE = {
  seed: 1234,
  /** the large model, as the repository holds it (data/stories260K) */
  large: {
    checkpoint: 'stories260K/stories260K.bin',
    tokenizer: 'stories260K/tok512.bin',
    license: 'stories260K/LICENSE',
  },
  /** real stories beside the sampled ones */
  tinyStories: 'tinystories-sample/tinystories.txt',
  /** stories sampled from the large model (from BOS, temperature 1) */
  sampledStories: 2048,
  storyTokens: 256,
  context: 256,
  heldOutFraction: 0.05,
  small: { hiddenSize: 32, numLayers: 3, numHeads: 4, intermediateSize: 96, epochs: 10, lr: 5e-3, batchSize: 16 },
};

export interface EmbeddedModelCard {
  name: 'large' | 'small';
  parameters: number;
  config: Pick<
    ModelConfig,
    'hiddenSize' | 'numLayers' | 'numHeads' | 'intermediateSize' | 'vocabSize' | 'maxPositions'
  >;
  /** where it came from: "pretrained" (copied) or "trained here" */
  origin: string;
  steps: number;
  finalTrainLoss: number | null;
  /** mean next-token loss on the held-out chunks (sampled and real stories) */
  heldOutLoss: number;
  /** the same on the held-out TinyStories paragraphs only (real text) */
  heldOutRealLoss: number;
  seconds: number;
  /** three samples from "Once upon a time" (temperature 1, seed 1), for the card */
  samples: string[];
}

export interface EmbeddedRecipeResult {
  corpus: {
    sampledStories: number;
    sampledTokens: number;
    realParagraphs: number;
    realTokens: number;
    trainChunks: number;
    heldOutChunks: number;
    heldOutRealChunks: number;
    samplingSeconds: number;
    /** neutral story openings written for the main job's prompts */
    storyOpenings: number;
  };
  models: EmbeddedModelCard[];
  totalSeconds: number;
}

interface Chunk {
  ids: number[];
  real: boolean;
}

const parameterCount = (weights: Map<string, { data: ArrayLike<number> }>) =>
  [...weights.values()].reduce((a, w) => a + w.data.length, 0);

/** Mean next-token loss (nats) of `model` on chunks that start with BOS. */
async function heldOutLoss(modelDir: string, chunks: readonly Chunk[]): Promise<number> {
  const model = await loadModel(modelDir);
  try {
    const score = requireScoring(model, 'the held-out loss of the embedded models');
    let total = 0;
    let count = 0;
    for (let i = 0; i < chunks.length; i += 32) {
      const batch = chunks.slice(i, i + 32).map((c) => ({ prefix: c.ids.slice(0, 1), continuation: c.ids.slice(1) }));
      for (const r of await score(batch)) {
        total -= r.total;
        count += r.logprobs.length;
      }
    }
    return total / count;
  } finally {
    await model.dispose();
  }
}

async function cardSamples(modelDir: string): Promise<string[]> {
  const model = await loadModel(modelDir);
  try {
    const out = await model.sample({ prompt: 'Once upon a time', n: 3, maxNewTokens: 48, temperature: 1, seed: 1 });
    return out.map((o) => 'Once upon a time' + o.text);
  } finally {
    await model.dispose();
  }
}

export async function trainEmbedded(
  outDir: string,
  dataDir: string,
  options: { onProgress?: (what: string, p?: TrainProgress) => void; workDir?: string } = {},
): Promise<EmbeddedRecipeResult> {
  const r = EMBEDDED_RECIPE;
  const started = performance.now();

  // 1. the large model: stories260K, copied unchanged into an HF directory with its license
  options.onProgress?.('large: stories260K → HF directory');
  const large = readLocalCheckpoint(join(dataDir, r.large.checkpoint), join(dataDir, r.large.tokenizer));
  const largeParameters = parameterCount(large.weights);
  saveCheckpoint(join(outDir, 'large'), large.config, large.weights, large.tokenizer);
  copyFileSync(join(dataDir, r.large.license), join(outDir, 'large', 'LICENSE'));
  const tokenizer = large.tokenizer;
  const bos = tokenizer.bosId!;

  // 2. the corpus: stories sampled from the large model, and the real TinyStories paragraphs
  options.onProgress?.('sample stories from the large model');
  let t0 = performance.now();
  const largeModel = await loadModel(join(outDir, 'large'));
  const sampled: Chunk[] = [];
  try {
    for (let i = 0; i < r.sampledStories; i += 64) {
      const out = await largeModel.sample({
        prompt: [bos],
        n: Math.min(64, r.sampledStories - i),
        maxNewTokens: r.storyTokens - 1,
        temperature: 1,
        seed: r.seed + i,
      });
      for (const o of out) sampled.push({ ids: [bos, ...o.tokens], real: false });
    }
  } finally {
    await largeModel.dispose();
  }
  const samplingSeconds = (performance.now() - t0) / 1000;
  const paragraphs = readFileSync(join(dataDir, r.tinyStories), 'utf8')
    .split(/\n\s*\n/)
    .map((p) => p.trim())
    .filter((p) => p.length > 0);
  const openings = await storyOpenings(paragraphs);
  writeFileSync(join(outDir, STORY_OPENINGS_FILE), openings.join('\n') + '\n');
  const real: Chunk[] = paragraphs.map((p) => ({
    ids: tokenizer.encode(p, { addBos: true }).slice(0, r.context),
    real: true,
  }));

  const rng = createRng(r.seed);
  const split = (chunks: Chunk[]) => {
    const shuffled = rng.shuffle(chunks);
    const n = Math.round(shuffled.length * r.heldOutFraction);
    return { heldOut: shuffled.slice(0, n), train: shuffled.slice(n) };
  };
  const s = split(sampled);
  const t = split(real);
  const trainChunks = rng.shuffle([...s.train, ...t.train]);
  const heldOut = [...s.heldOut, ...t.heldOut];
  const toExample = (c: Chunk, i: number): SftExample => ({
    promptIds: c.ids.slice(0, 1),
    responseIds: c.ids.slice(1),
    file: c.real ? r.tinyStories : 'stories260K samples',
    line: i + 1,
    truncated: false,
  });

  // 3. the small model, from random initialization
  const spec = r.small;
  const config: ModelConfig = {
    ...large.config,
    hiddenSize: spec.hiddenSize,
    numLayers: spec.numLayers,
    numHeads: spec.numHeads,
    numKvHeads: spec.numHeads,
    headDim: spec.hiddenSize / spec.numHeads,
    intermediateSize: spec.intermediateSize,
    maxPositions: r.context,
  };
  const weights = randomInitWeights(config, r.seed);
  const smallParameters = parameterCount(weights);
  const work = join(options.workDir ?? join(outDir, '.work'), 'small');
  t0 = performance.now();
  const result = await train({
    objective: sftObjective(),
    model: { config, weights, tokenizer, source: `random init (seed ${r.seed})` },
    train: trainChunks.map(toExample),
    optimizer: defaultOptimizer('adamw'),
    lr: spec.lr,
    schedule: 'cosine',
    warmup: 50,
    maxGradNorm: 1,
    batchSize: spec.batchSize,
    gradAccum: 1,
    epochs: spec.epochs,
    seed: r.seed,
    outDir: work,
    saveEvery: 200,
    evalEvery: 0,
    keepCheckpoints: 1,
    resume: existsSync(work),
    modelKind: 'causal-lm',
    onProgress: (p) => options.onProgress?.('small', p),
  });
  const smallSeconds = (performance.now() - t0) / 1000;
  const trained = readHfDirectory(join(work, FINAL_MODEL_DIR));
  saveCheckpoint(join(outDir, 'small'), trained.config, trained.weights, tokenizer);
  rmSync(options.workDir ?? join(outDir, '.work'), { recursive: true, force: true });

  // 4. both models on the same held-out chunks, and what they write
  options.onProgress?.('held-out loss and samples');
  const heldOutReal = heldOut.filter((c) => c.real);
  const describe = (name: 'large' | 'small', c: ModelConfig) => ({
    hiddenSize: c.hiddenSize,
    numLayers: c.numLayers,
    numHeads: c.numHeads,
    intermediateSize: c.intermediateSize,
    vocabSize: c.vocabSize,
    maxPositions: name === 'large' ? c.maxPositions : r.context,
  });
  const cards: EmbeddedModelCard[] = [];
  for (const name of ['large', 'small'] as const) {
    const dir = join(outDir, name);
    cards.push({
      name,
      parameters: name === 'large' ? largeParameters : smallParameters,
      config: describe(name, name === 'large' ? large.config : config),
      origin: name === 'large' ? 'pretrained (Karpathy, tinyllamas stories260K), copied unchanged' : 'trained here',
      steps: name === 'large' ? 0 : result.steps,
      finalTrainLoss: name === 'large' ? null : result.final.loss,
      heldOutLoss: await heldOutLoss(dir, heldOut),
      heldOutRealLoss: await heldOutLoss(dir, heldOutReal),
      seconds: name === 'large' ? 0 : smallSeconds,
      samples: await cardSamples(dir),
    });
  }
  const out: EmbeddedRecipeResult = {
    corpus: {
      sampledStories: sampled.length,
      sampledTokens: sampled.reduce((a, c) => a + c.ids.length - 1, 0),
      realParagraphs: real.length,
      realTokens: real.reduce((a, c) => a + c.ids.length - 1, 0),
      trainChunks: trainChunks.length,
      heldOutChunks: heldOut.length,
      heldOutRealChunks: heldOutReal.length,
      samplingSeconds,
      storyOpenings: openings.length,
    },
    models: cards,
    totalSeconds: (performance.now() - started) / 1000,
  };
  writeFileSync(join(outDir, 'recipe-result.json'), JSON.stringify(out, null, 2) + '\n');
  return out;
}
