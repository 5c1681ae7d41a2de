/**
 * A loaded native model: its config, tokenizer-independent sessions (step + head) and the
 * typed-array plumbing to run them.
 */
import { GraphSession, int64 } from '../../engine/session.ts';
import { buildHeadGraph, buildStepGraph, headNames, stepNames } from '../../models/inference-graphs.ts';
import type { ModelConfig } from '../../models/config.ts';
import type { Weights } from '../../models/weights.ts';

export interface KvLayer { k: Float32Array; v: Float32Array }

export interface StepResult {
  /** [B, T, D] final hidden states */
  hidden: Float32Array;
  /** per layer [B, Hkv, P+T, hd], when fetched */
  present?: KvLayer[];
  /** requested residual-stream layers, each [B, T, D] */
  layers: Map<number, Float32Array>;
}

export class NativeRuntime {
  private constructor(readonly cfg: ModelConfig, private readonly step: GraphSession, private readonly head: GraphSession) {}

  static async create(cfg: ModelConfig, weights: Weights, name: string): Promise<NativeRuntime> {
    const stepSession = await GraphSession.create(buildStepGraph(cfg, weights), `${name} step graph`);
    const headSession = await GraphSession.create(buildHeadGraph(cfg, weights), `${name} head graph`);
    return new NativeRuntime(cfg, stepSession, headSession);
  }

  get kvRowSize(): number { return this.cfg.numKvHeads * this.cfg.headDim; }

  emptyCache(batch: number): KvLayer[] {
    return Array.from({ length: this.cfg.numLayers }, () => ({ k: new Float32Array(0), v: new Float32Array(0) }));
  }

  async runStep(args: { ids: number[]; positions: number[]; bias: Float32Array; batch: number; length: number; past: KvLayer[]; pastLength: number; fetchPresent: boolean; layers?: readonly number[] }): Promise<StepResult> {
    const { batch: B, length: T, pastLength: P } = args;
    const { numKvHeads: Hkv, headDim: hd } = this.cfg;
    const feeds: Record<string, { dims: number[]; data: Float32Array | BigInt64Array }> = {
      [stepNames.ids]: { dims: [B, T], data: int64(args.ids) },
      [stepNames.positions]: { dims: [B, T], data: int64(args.positions) },
      [stepNames.bias]: { dims: [B, 1, T, P + T], data: args.bias },
    };
    args.past.forEach((layer, l) => {
      feeds[stepNames.pastK(l)] = { dims: [B, Hkv, P, hd], data: layer.k };
      feeds[stepNames.pastV(l)] = { dims: [B, Hkv, P, hd], data: layer.v };
    });
    const fetch = [stepNames.hidden];
    if (args.fetchPresent) for (let l = 0; l < this.cfg.numLayers; l++) fetch.push(stepNames.presentK(l), stepNames.presentV(l));
    for (const l of args.layers ?? []) fetch.push(stepNames.layer(l));
    const out = await this.step.run(feeds, fetch);
    const layers = new Map<number, Float32Array>();
    for (const l of args.layers ?? []) layers.set(l, out[stepNames.layer(l)].data as Float32Array);
    const present = args.fetchPresent
      ? Array.from({ length: this.cfg.numLayers }, (_, l) => ({ k: out[stepNames.presentK(l)].data as Float32Array, v: out[stepNames.presentV(l)].data as Float32Array }))
      : undefined;
    return { hidden: out[stepNames.hidden].data as Float32Array, present, layers };
  }

  /** Runs the LM head on N hidden rows; returns full log-probs and/or the targets' log-probs. */
  async runHead(rows: Float32Array, count: number, targets: readonly number[] | null, wantFull: boolean): Promise<{ logprobs?: Float32Array; targetLogprobs?: Float32Array }> {
    const fetch: string[] = [];
    if (wantFull) fetch.push(headNames.logprobs);
    if (targets) fetch.push(headNames.targetLogprobs);
    const out = await this.head.run({
      [headNames.hidden]: { dims: [count, this.cfg.hiddenSize], data: rows },
      [headNames.targets]: { dims: [count], data: int64(targets ?? new Array(count).fill(0)) },
    }, fetch);
    return {
      logprobs: wantFull ? (out[headNames.logprobs].data as Float32Array) : undefined,
      targetLogprobs: targets ? (out[headNames.targetLogprobs].data as Float32Array) : undefined,
    };
  }

  async release(): Promise<void> {
    await this.step.release();
    await this.head.release();
  }
}
