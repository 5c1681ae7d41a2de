/**
 * A training objective: the loss part of the train graph, the feeds of a batch, and the
 * metrics read back. The trainer is written against this; SFT, reward models and the DPO
 * family are implementations.
 */
import type { Graph, Value } from '../engine/graph.ts';
import type { Ops } from '../engine/ops.ts';
import type { Feed, Fetched } from '../engine/session.ts';
import type { ModelConfig } from '../models/config.ts';
import type { ParameterSource } from '../models/parameters.ts';
import type { Weights } from '../models/weights.ts';

export interface LossContext {
  o: Ops;
  g: Graph;
  cfg: ModelConfig;
  params: ParameterSource;
  /** final-normed hidden states [B, T, D] */
  hidden: Value;
}

export interface LossGraph {
  /** scalar; already divided by the step's normalizer (see `normalizer`) so micro-batch losses add up */
  loss: Value;
  /** named outputs the objective reads back for its metrics */
  outputs: Record<string, Value>;
}

/** Sums over the items of a batch, averaged by the trainer over the whole step (or evaluation). */
export interface MetricSums {
  /** metric name → sum over items */
  sums: Record<string, number>;
  /** metric name → how many items the sum is over (default: the batch's `count`) */
  counts?: Record<string, number>;
  count: number;
}

export interface Objective<Item> {
  readonly kind: string;
  /** tensors the objective adds to the model (e.g. a reward head), initialized */
  extraWeights?(cfg: ModelConfig, seed: number): Weights;
  addLoss(ctx: LossContext): LossGraph;
  /** what the loss is averaged over for a set of items (response tokens, pairs) */
  normalizer(items: readonly Item[]): number;
  /** the feeds of one micro-batch; `normalizer` is the whole step's */
  feeds(items: readonly Item[], normalizer: number): Record<string, Feed>;
  /** token sequences the micro-batch runs (for packing and throughput) */
  sequences(items: readonly Item[]): number[][];
  metrics(items: readonly Item[], fetched: Record<string, Fetched>): MetricSums;
  /** the item's length for batching by length */
  length(item: Item): number;
}
