/**
 * The inference graph of a model, with weights embedded as initializers: new tokens (+ KV
 * cache) → log-probs on chosen rows, the new tokens' keys/values, and the residual stream of
 * every layer (fetched only when asked for). Prefill is a step with an empty cache. Running the
 * vocabulary projection only on chosen rows keeps prefill and scoring from paying for every
 * position.
 */
import { Graph, type Value } from '../engine/graph.ts';
import { Ops } from '../engine/ops.ts';
import { AlignkitError } from '../errors.ts';
import type { ModelConfig } from './config.ts';
import { project, type ParameterSource } from './parameters.ts';
import type { QuantizedWeights, Weights } from './weights.ts';
import {
  DEFAULT_QUANTIZED_MATMUL,
  QuantizedLinear,
  quantizedGather,
  type QuantizedMatmulOptions,
} from '../engine/quantized-matmul.ts';
import { buildBody, lmHead } from './transformer.ts';
import { stackRows, type QuantizedMatrix } from '../engine/block-quantize.ts';
import { attentionWindows } from './architectures/registry.ts';
import { softcap } from './attention.ts';
import { transposeMatrix } from '../util/transpose.ts';

/**
 * How nn.Linear weights become initializers. `as-stored`: [out, in] behind a Transpose, which
 * onnxruntime folds when the session loads (training graphs, whose autodiff cancels that
 * Transpose in the backward matmuls). `matmul-ready`: written [in, out] as MatMul takes it
 * (inference graphs): folding kept each transposed copy beside its original while the session
 * loaded, which set the peak memory of real-size models (a tied LM head then gets its own
 * [D, V] initializer beside the embedding, as the fold made too).
 */
export type LinearLayout = 'as-stored' | 'matmul-ready';

/**
 * The weights as initializers of `g`. Matrices in `quantized` stay block codes: their products
 * run onnxruntime's quantized kernels (`matmul` says which), their rows are gathered quantized.
 */
export function initializerSource(
  g: Graph,
  weights: Weights,
  quantized: QuantizedWeights = new Map(),
  matmul: QuantizedMatmulOptions = DEFAULT_QUANTIZED_MATMUL,
  layout: LinearLayout = 'as-stored',
): ParameterSource {
  const o = new Ops(g);
  const cache = new Map<string, Value>();
  const linears = new Map<string, QuantizedLinear>();
  const get = (name: string) => {
    const w = weights.get(name);
    if (!w && quantized.has(name))
      throw new AlignkitError('internal', `${name} is held quantized: only its products and rows are available`);
    if (!w) throw new AlignkitError('format', `missing weight ${name}`);
    return w;
  };
  /**
   * One buffer for every transposed weight in turn (the bytes are written out before the next
   * weight is made): fresh memory is slow to touch, ~14 ms per MB on the machines measured.
   */
  let scratch = new Float32Array(0);
  /** an nn.Linear weight written [in, out], transposed only as its bytes are written */
  const matmulReady = (name: string) => {
    const w = get(name);
    const [rows, cols] = w.shape;
    const bytes = {
      byteLength: w.data.byteLength,
      produce: () => {
        if (scratch.length < w.data.length) scratch = new Float32Array(w.data.length);
        const t = transposeMatrix(w.data, rows, cols, scratch);
        return new Uint8Array(t.buffer, t.byteOffset, t.byteLength);
      },
    };
    return g.tensor(name, 'float32', [cols, rows], bytes);
  };
  return {
    has: (name) => weights.has(name) || quantized.has(name),
    project(x, name) {
      const q = quantized.get(name);
      if (!q) return o.matmul(x, this.linear(name));
      const key = 'p:' + name + ':' + x.id;
      if (cache.has(key)) return cache.get(key)!;
      const group = sharedInputGroup(name, quantized);
      if (!group) {
        if (!linears.has(name)) linears.set(name, new QuantizedLinear(g, name, q, matmul));
        return linears.get(name)!.apply(x);
      }
      // one wider product for the whole group, split after: fewer kernel calls, x quantized once
      if (!linears.has(group.name)) linears.set(group.name, new QuantizedLinear(g, group.name, group.stacked, matmul));
      const widths = group.members.map((m) => quantized.get(m)!.n);
      const pieces = o.split(
        linears.get(group.name)!.apply(x),
        o.ints(widths),
        -1,
        widths.map((w) => [...x.shape.slice(0, -1), w]),
      );
      group.members.forEach((m, i) => cache.set('p:' + m + ':' + x.id, pieces[i]));
      return cache.get(key)!;
    },
    rows(name, ids) {
      const q = quantized.get(name);
      if (!q) return o.gather(this.tensor(name), ids);
      const key = 'r:' + name + ':' + ids.id;
      if (!cache.has(key)) cache.set(key, quantizedGather(g, q, ids, name));
      return cache.get(key)!;
    },
    tensor(name) {
      const key = 't:' + name;
      if (!cache.has(key)) {
        const w = get(name);
        cache.set(key, g.tensor(name, 'float32', w.shape, w.data));
      }
      return cache.get(key)!;
    },
    linear(name) {
      const key = 'l:' + name;
      if (!cache.has(key))
        cache.set(key, layout === 'as-stored' ? o.transpose(this.tensor(name), [1, 0]) : matmulReady(name));
      return cache.get(key)!;
    },
  };
}

/**
 * nn.Linear weights a layer multiplies by the same input (attention's q, k, v; the MLP's gate and
 * up). Held quantized with the same block layout, they run as one stacked product.
 */
const SHARED_INPUT_GROUPS = [
  ['q_proj', 'k_proj', 'v_proj'],
  ['gate_proj', 'up_proj'],
];

function sharedInputGroup(
  name: string,
  quantized: QuantizedWeights,
): { name: string; members: string[]; stacked: QuantizedMatrix } | null {
  const match = /^(.*\.)(\w+)\.weight$/.exec(name);
  const group = match && SHARED_INPUT_GROUPS.find((members) => members.includes(match[2]));
  if (!group) return null;
  const members = group.map((member) => `${match[1]}${member}.weight`);
  if (!members.every((m) => quantized.has(m))) return null;
  const stacked = stackRows(members.map((m) => quantized.get(m)!));
  return stacked && { name: `${match[1]}${group.join('_')}.weight`, members, stacked };
}

/** the scalar head of reward and value models, [1, D] as in HF's *ForSequenceClassification */
export const SCORE_HEAD = 'score.weight';

export const stepNames = {
  ids: 'input_ids',
  positions: 'position_ids',
  bias: 'attn_bias',
  windowBias: 'attn_bias_window',
  rows: 'score_rows',
  targets: 'targets',
  lastRows: 'next_rows',
  targetLogprobs: 'target_logprobs',
  nextLogprobs: 'next_logprobs',
  scalar: 'scalar_head',
  pastK: (l: number) => `past_key_${l}`,
  pastV: (l: number) => `past_value_${l}`,
  newKv: 'new_kv',
  layer: (l: number) => `layer_hidden_${l}`,
};

/**
 * One step of the model over new tokens [B, T] with a KV cache [B, Hkv, C, hd] per layer (C may
 * be 0; `attn_bias` [B, 1, T, C+T] says which columns each new token of a full-attention layer
 * sees, `attn_bias_window` the same for windowed layers). The LM head runs
 * only on chosen rows of the flattened [B·T] positions: `score_rows` with their `targets` give
 * the targets' log-probs, `next_rows` give full next-token log-probs. `new_kv` [B, T, L·2·Hkv·hd]
 * holds the new tokens' keys and values, layer by layer (k then v): the caller keeps the cache,
 * so the step never copies it out (a cache output costs a copy of the whole cache per token).
 */
export function buildStepGraph(
  cfg: ModelConfig,
  weights: Weights,
  quantized: QuantizedWeights = new Map(),
  matmul: QuantizedMatmulOptions = DEFAULT_QUANTIZED_MATMUL,
): Graph {
  const g = new Graph('step');
  const o = new Ops(g);
  const ids = g.input(stepNames.ids, 'int64', ['B', 'T']);
  const positions = g.input(stepNames.positions, 'int64', ['B', 'T']);
  // one bias per kind of layer the model has: full attention, sliding window
  const windows = attentionWindows(cfg);
  const biasInput = (name: string) => g.input(name, 'float32', ['B', 1, 'T', 'S']);
  const bias = windows.full ? biasInput(stepNames.bias) : undefined;
  const windowBias = windows.window !== null ? biasInput(stepNames.windowBias) : undefined;
  const past = Array.from({ length: cfg.numLayers }, (_, l) => ({
    k: g.input(stepNames.pastK(l), 'float32', ['B', cfg.numKvHeads, 'C', cfg.headDim]),
    v: g.input(stepNames.pastV(l), 'float32', ['B', cfg.numKvHeads, 'C', cfg.headDim]),
  }));
  const layers = Array.from({ length: cfg.numLayers + 1 }, (_, l) => l);
  const params = initializerSource(g, weights, quantized, matmul, 'matmul-ready');
  const body = buildBody(o, cfg, params, { ids, positions, bias, windowBias, past }, { hiddenLayers: layers });
  addStepOutputs(g, cfg, weights, params, body);
  return g;
}

/**
 * The outputs every step graph flavour shares, from the final hidden states [B, T, D]: the LM head
 * on the `score_rows` (their `targets`' log-probs) and on the `next_rows` (full log-probs), the
 * scalar head of reward/value models, `new_kv` and the residual stream of each listed layer.
 */
export function addStepOutputs(
  g: Graph,
  cfg: ModelConfig,
  weights: Weights,
  params: ParameterSource,
  body: { hidden: Value; newKv: readonly { k: Value; v: Value }[]; layerHidden: ReadonlyMap<number, Value> },
): void {
  const o = new Ops(g);
  const rows = g.input(stepNames.rows, 'int64', ['N']);
  const targets = g.input(stepNames.targets, 'int64', ['N']);
  const lastRows = g.input(stepNames.lastRows, 'int64', ['M']);
  const flat = o.reshape(body.hidden, [-1, cfg.hiddenSize]);
  const { weight, softcap: cap } = lmHead(cfg, params);
  const logits = (h: Value) => {
    const raw = project(o, params, h, weight);
    return cap === null ? raw : softcap(o, raw, cap);
  };
  // the LM head runs once, on the score rows and the next rows together: onnxruntime prepacks a
  // constant matrix once per node that multiplies by it, so two head products held two packed copies
  const V = cfg.vocabSize;
  const headLogits = logits(o.gather(flat, o.concat([rows, lastRows], 0)));
  const sizes = o.concat([o.shapeOf(rows), o.shapeOf(lastRows)], 0);
  const [scoredLogits, lastLogits] = o.split(headLogits, sizes, 0, [
    ['N', V],
    ['M', V],
  ]);
  const scored = o.logSoftmax(scoredLogits, -1);
  g.output(o.squeeze(o.gatherElements(scored, o.unsqueeze(targets, [1]), 1), [1]), stepNames.targetLogprobs);
  const last = o.gather(flat, lastRows);
  g.output(o.logSoftmax(lastLogits, -1), stepNames.nextLogprobs);
  // reward and value models (*ForSequenceClassification) read a scalar head at the same rows
  if (params.has(SCORE_HEAD))
    g.output(o.reshape(o.matmul(last, o.transpose(params.tensor(SCORE_HEAD), [1, 0])), [-1]), stepNames.scalar);
  g.output(
    o.concat(
      body.newKv.flatMap((kv) => [kv.k, kv.v]),
      2,
    ),
    stepNames.newKv,
  );
  for (const [l, v] of body.layerHidden) g.output(v, stepNames.layer(l));
}
