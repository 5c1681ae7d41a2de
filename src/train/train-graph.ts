/**
 * One graph per (model, objective, trainable set): token batch + weights in; loss, the
 * objective's outputs and the gradient of every trained tensor out. Built without gradients it
 * is the matching evaluation graph (same forward, same numerics).
 */
import { Graph } from '../engine/graph.ts';
import { gradients, pruneGraph } from '../engine/autodiff.ts';
import type { SessionOptions } from '../engine/session-types.ts';
import type { ModelConfig } from '../models/config.ts';
import type { QuantizedWeights, Weights } from '../models/weights.ts';
import { buildBody } from '../models/transformer.ts';
import { slidingWindowBias } from '../models/attention.ts';
import { attentionWindows } from '../models/architectures/registry.ts';
import { trainInputNames } from './batch-tensors.ts';
import { LoraOps } from './lora-ops.ts';
import { TrainingOps } from './training-ops.ts';
import type { Objective } from './objective.ts';
import { TrainingParameters, type TrainableSpec } from './training-parameters.ts';

export const LOSS_OUTPUT = 'loss';
export const gradOutputName = (name: string) => `grad.${name}`;

export interface TrainGraph {
  graph: Graph;
  /** weight inputs to feed each run, by name (trained ones and frozen ones placed as inputs) */
  weightInputs: string[];
  /** inputs whose gradients the graph returns (empty for an evaluation graph) */
  trained: string[];
  /** the objective's outputs (besides the loss) */
  outputs: string[];
}

export interface TrainGraphOptions {
  /** false builds the forward-only evaluation graph */
  gradients: boolean;
  name?: string;
}

export function buildTrainGraph<Item>(
  cfg: ModelConfig,
  weights: Weights,
  trainable: TrainableSpec,
  objective: Objective<Item>,
  options: TrainGraphOptions,
): TrainGraph {
  const g = new Graph(options.name ?? `${objective.kind}-${options.gradients ? 'train' : 'eval'}`);
  const o = trainable.lora ? new LoraOps(g) : new TrainingOps(g);
  const ids = g.input(trainInputNames.ids, 'int64', ['B', 'T']);
  const positions = g.input(trainInputNames.positions, 'int64', ['B', 'T']);
  const bias = g.input(trainInputNames.bias, 'float32', ['B', 1, 'T', 'T']);
  const params = new TrainingParameters(o, cfg, weights, trainable);
  // the batch's bias is causal; windowed layers add the window from the positions
  const { window } = attentionWindows(cfg);
  const body = buildBody(o, cfg, params, {
    ids,
    positions,
    bias,
    windowBias: window === null ? undefined : o.add(bias, slidingWindowBias(o, positions, window)),
  });
  const { loss, outputs } = objective.addLoss({ o, g, cfg, params, hidden: body.hidden });
  g.output(loss, LOSS_OUTPUT);
  for (const [name, v] of Object.entries(outputs)) g.output(v, name);
  const trained = options.gradients ? [...params.trained] : [];
  if (trained.length) {
    const grads = gradients(
      o,
      loss,
      trained.map((n) => params.inputs.get(n)!),
    );
    grads.forEach((grad, i) => g.output(grad, gradOutputName(trained[i])));
  }
  pruneGraph(g);
  return {
    graph: g,
    weightInputs: [...params.inputs.keys()],
    trained,
    outputs: Object.keys(outputs),
  };
}

/** Models below this many parameters train with onnxruntime's memory arena on (see below). */
const ARENA_PARAMETER_LIMIT = 200e6;

/**
 * Whether a training session keeps onnxruntime's CPU memory arena. On below 200M parameters:
 * freeing every activation back to the system after each run and faulting fresh pages in on the
 * next made steps 1.5–2.5× slower on the 2-core machine (a d-256, 4-layer model with a batch of
 * 8×128: whole 60-step SFT runs of 79–92 s against 41–54 s; a GPT-2-small step 42–53 s against
 * 20–27 s, measured under heavy load, issue 18). The price is memory (GPT-2-small's peak was
 * 5.7 GB with the arena against 4.2 GB without, when the memory pattern was still on; with the
 * pattern off, 3.9 GB with the arena in the training bench), so larger models keep it off.
 */
export function trainingMemoryArena(weights: Weights, quantized: QuantizedWeights = new Map()): boolean {
  let parameters = 0;
  for (const w of weights.values()) parameters += w.data.length;
  for (const q of quantized.values()) parameters += q.n * q.k;
  return parameters < ARENA_PARAMETER_LIMIT;
}

/** Session options of training and evaluation graphs: the arena as above, onnxruntime's memory pattern off (session-types.ts says why). */
export function trainingSessionOptions(weights: Weights, quantized?: QuantizedWeights): SessionOptions {
  return { memoryArena: trainingMemoryArena(weights, quantized), memoryPattern: false };
}
