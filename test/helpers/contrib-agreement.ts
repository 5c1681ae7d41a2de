/**
 * The contrib step graph (com.microsoft kernels; float32, 8-bit or 4-bit weights) against the
 * float32 standard step graph on stories260K: every position of a 200-token story in one
 * teacher-forced prefill, compared as |Δ log p| of the story's next token and as agreement of the
 * greedy (argmax) token. test/models-contrib-step.test.ts asserts on these figures;
 * scripts/contrib-graphs-table.ts writes them to a summary.json for the README.
 */
import { readFileSync } from 'node:fs';
import type { Graph } from '../../src/engine/graph.ts';
import { GraphSession, int64, type Feed } from '../../src/engine/session.ts';
import { appendBias } from '../../src/lm/native/attention-bias.ts';
import { argmax } from '../../src/lm/sampling.ts';
import {
  buildContribStepGraph,
  contribStepNames as names,
  type ContribStepOptions,
} from '../../src/models/contrib-step.ts';
import { buildStepGraph } from '../../src/models/inference-graphs.ts';
import { readLlama2cCheckpoint } from '../../src/models/llama2c-checkpoint.ts';
import { Llama2cTokenizer } from '../../src/tokenizers/llama2c-tokenizer.ts';

export const STORIES = 'data/stories260K/stories260K.bin';
export const STORIES_TOKENIZER = 'data/stories260K/tok512.bin';
/** stories260K's own greedy story (llama2.c's run.c at temperature 0) */
export const STORY = 'data/stories260K/greedy-200.expected.txt';
export const STORY_TOKENS = 200;

/** The contrib graphs compared with the float32 standard graph, by the name a table shows. */
export const CONTRIB_VARIANTS: { name: string; options: ContribStepOptions }[] = [
  { name: 'contrib graph, float32 weights', options: {} },
  { name: 'contrib graph, 8-bit weights (MatMulNBits, block 32)', options: { quantize: 8 } },
  { name: 'contrib graph, 4-bit weights (MatMulNBits, block 32)', options: { quantize: 4 } },
];

export interface Agreement {
  /** mean and max over positions of |Δ log p| of the story's next token */
  meanDelta: number;
  maxDelta: number;
  /** positions whose greedy token is the float32 standard graph's */
  sameGreedy: number;
  positions: number;
}

/** Every position's next-token log-probs [T·V] of `tokens` under one step graph, in one prefill. */
async function storyLogprobs(graph: Graph, tokens: readonly number[], layers: number, kvDims: number[]) {
  const T = tokens.length;
  const session = await GraphSession.create(graph, graph.name);
  try {
    const feeds: Record<string, Feed> = {
      [names.ids]: { dims: [1, T], data: int64(tokens) },
      [names.positions]: { dims: [1, T], data: int64(tokens.map((_, i) => i)) },
      [names.bias]: { dims: [1, 1, T, T], data: appendBias([new Uint8Array(0)], 0, [T], T, null, [0]) },
      [names.lastRows]: { dims: [T], data: int64(tokens.map((_, i) => i)) },
      [names.rows]: { dims: [0], data: int64([]) },
      [names.targets]: { dims: [0], data: int64([]) },
    };
    for (let l = 0; l < layers; l++)
      feeds[names.pastK(l)] = feeds[names.pastV(l)] = { dims: kvDims, data: new Float32Array(0) };
    const wanted = new Set(graph.inputs.map((v) => v.name));
    const out = await session.run(Object.fromEntries(Object.entries(feeds).filter(([n]) => wanted.has(n))), [
      names.nextLogprobs,
    ]);
    return out[names.nextLogprobs].data as Float32Array;
  } finally {
    await session.release();
  }
}

/**
 * Each variant's agreement with the float32 standard graph over the first `STORY_TOKENS` tokens
 * of stories260K's greedy story (positions 0 … T−2: the last has no next token to compare).
 */
export async function contribAgreement(
  variants: readonly { name: string; options: ContribStepOptions }[] = CONTRIB_VARIANTS,
): Promise<Map<string, Agreement>> {
  const { config: cfg, weights } = readLlama2cCheckpoint(STORIES);
  const tokens = Llama2cTokenizer.fromFile(STORIES_TOKENIZER)
    .encode(readFileSync(STORY, 'utf8'))
    .slice(0, STORY_TOKENS);
  if (tokens.length < STORY_TOKENS)
    throw new Error(`${STORY} encodes to ${tokens.length} tokens, fewer than ${STORY_TOKENS}`);
  const T = tokens.length,
    V = cfg.vocabSize;
  const kvDims = [1, cfg.numKvHeads, 0, cfg.headDim];
  const float = await storyLogprobs(buildStepGraph(cfg, weights), tokens, cfg.numLayers, kvDims);
  const result = new Map<string, Agreement>();
  for (const v of variants) {
    const other = await storyLogprobs(buildContribStepGraph(cfg, weights, v.options), tokens, cfg.numLayers, kvDims);
    const a: Agreement = { meanDelta: 0, maxDelta: 0, sameGreedy: 0, positions: T - 1 };
    for (let i = 0; i + 1 < T; i++) {
      const row = (x: Float32Array) => x.subarray(i * V, (i + 1) * V);
      if (argmax(row(other)) === argmax(row(float))) a.sameGreedy++;
      const delta = Math.abs(other[i * V + tokens[i + 1]] - float[i * V + tokens[i + 1]]);
      a.meanDelta += delta / (T - 1);
      a.maxDelta = Math.max(a.maxDelta, delta);
    }
    result.set(v.name, a);
  }
  return result;
}
