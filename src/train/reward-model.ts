/**
 * A trained reward model put to use: the scalar head read at the last token of each sequence,
 * on the engine (weights embedded), and the same model as a LanguageModel with a `scalarHead`
 * (decode/'s ScalarHeadModel: reward-guided decoding, Best-of-N, evaluation). The two run
 * different graphs, so each checks the other in tests.
 */
import { GraphSession } from '../engine/session.ts';
import { inputError } from '../errors.ts';
import type { NativeModel } from '../lm/native/native-model.ts';
import { loadNativeModel } from '../lm/load.ts';
import type { ModelConfig } from '../models/config.ts';
import type { Weights } from '../models/weights.ts';
import type { Tokenizer } from '../tokenizers/tokenizer.ts';
import { int64Feed, packSequences } from './batch-tensors.ts';
import { readRewardModel } from './model-directory.ts';
import type { Objective } from './objective.ts';
import { rewardAt } from './reward-objective.ts';
import { buildTrainGraph } from './train-graph.ts';

const ROWS = 'last_rows';
const REWARDS = 'rewards';
/** Token budget of one scoring batch (rows × padded length). */
const BATCH_TOKENS = 8192;

const scalarHead: Objective<number[]> = {
  kind: 'reward-scores',
  addLoss(ctx) {
    const r = rewardAt(ctx, ROWS);
    return { loss: ctx.o.reduceSum(r, [0], false), outputs: { [REWARDS]: r } };
  },
  normalizer: (items) => items.length,
  sequences: (items) => [...items],
  feeds(items) {
    const packed = packSequences(items);
    return { ...packed.feeds, [ROWS]: int64Feed(items.map((s, b) => b * packed.length + s.length - 1)) };
  },
  metrics: (items) => ({ sums: {}, count: items.length }),
  length: (s) => s.length,
};

export class RewardModel {
  private constructor(
    readonly config: ModelConfig,
    readonly tokenizer: Tokenizer,
    private readonly session: GraphSession,
  ) {}

  /** `weights` must hold score.weight [1, D]. */
  static async create(config: ModelConfig, weights: Weights, tokenizer: Tokenizer): Promise<RewardModel> {
    const graph = buildTrainGraph(config, weights, { full: new Set() }, scalarHead, {
      gradients: false,
      name: 'reward-model',
    });
    return new RewardModel(config, tokenizer, await GraphSession.create(graph.graph, 'reward model graph'));
  }

  static async load(dir: string): Promise<RewardModel> {
    const m = readRewardModel(dir);
    return RewardModel.create(m.config, m.weights, m.tokenizer);
  }

  /** The reward of each token sequence (read at its last token). */
  async scores(sequences: readonly (readonly number[])[]): Promise<number[]> {
    sequences.forEach((s, i) => {
      if (s.length === 0) throw inputError(`sequence ${i} is empty`);
      if (s.length > this.config.maxPositions)
        throw inputError(`sequence ${i} has ${s.length} tokens; the model's context is ${this.config.maxPositions}`);
    });
    const out = new Array<number>(sequences.length);
    const order = sequences.map((_, i) => i).sort((a, b) => sequences[b].length - sequences[a].length);
    for (let start = 0; start < order.length;) {
      const idx = order.slice(start, start + Math.max(1, Math.floor(BATCH_TOKENS / sequences[order[start]].length)));
      start += idx.length;
      const fetched = await this.session.run(
        scalarHead.feeds(
          idx.map((i) => [...sequences[i]]),
          idx.length,
        ),
        [REWARDS],
      );
      const r = fetched[REWARDS].data as Float32Array;
      idx.forEach((i, k) => {
        out[i] = r[k];
      });
    }
    return out;
  }

  async dispose(): Promise<void> {
    await this.session.release();
  }
}

/** The reward model directory as a LanguageModel whose `scalarHead` is the reward (the native backend runs the head). */
export async function loadRewardLanguageModel(
  dir: string,
): Promise<NativeModel & { scalarHead(sequences: readonly (readonly number[])[]): Promise<number[]> }> {
  const lm = await loadNativeModel(dir);
  if (!lm.scalarHead) throw inputError('expected a reward model directory (score.weight)', { file: dir });
  return lm as NativeModel & { scalarHead(sequences: readonly (readonly number[])[]): Promise<number[]> };
}
