/**
 * The two inference graphs of a model, with weights embedded as initializers:
 *  - step: new tokens (+ KV cache) → final hidden states, the new cache, and the residual stream
 *    of every layer (fetched only when asked for). Prefill is a step with an empty cache.
 *  - head: hidden rows [N, D] → next-token log-probs [N, V], and the log-prob of given targets [N].
 * Splitting the LM head off lets prefill and scoring run the vocabulary projection only on the
 * rows that are needed.
 */
import { Graph, type Value } from '../engine/graph.ts';
import { Ops } from '../engine/ops.ts';
import { AlignkitError } from '../errors.ts';
import type { ModelConfig } from './config.ts';
import type { ParameterSource } from './parameters.ts';
import type { Weights } from './weights.ts';
import { buildBody, lmHeadName } from './transformer.ts';

export function initializerSource(g: Graph, weights: Weights): ParameterSource {
  const cache = new Map<string, Value>();
  const get = (name: string) => {
    const w = weights.get(name);
    if (!w) throw new AlignkitError('format', `missing weight ${name}`);
    return w;
  };
  return {
    has: (name) => weights.has(name),
    tensor(name) {
      const key = 't:' + name;
      if (!cache.has(key)) { const w = get(name); cache.set(key, g.tensor(name, 'float32', w.shape, w.data)); }
      return cache.get(key)!;
    },
    linear(name) {
      const key = 'l:' + name;
      if (!cache.has(key)) {
        const w = get(name);
        const [out, inp] = w.shape;
        const t = new Float32Array(out * inp);
        for (let r = 0; r < out; r++) for (let c = 0; c < inp; c++) t[c * out + r] = w.data[r * inp + c];
        cache.set(key, g.tensor(name + '.T', 'float32', [inp, out], t));
      }
      return cache.get(key)!;
    },
  };
}

export const stepNames = {
  ids: 'input_ids', positions: 'position_ids', bias: 'attn_bias', hidden: 'hidden',
  pastK: (l: number) => `past_key_${l}`, pastV: (l: number) => `past_value_${l}`,
  presentK: (l: number) => `present_key_${l}`, presentV: (l: number) => `present_value_${l}`,
  layer: (l: number) => `layer_hidden_${l}`,
};

export function buildStepGraph(cfg: ModelConfig, weights: Weights): Graph {
  const g = new Graph('step');
  const o = new Ops(g);
  const ids = g.input(stepNames.ids, 'int64', ['B', 'T']);
  const positions = g.input(stepNames.positions, 'int64', ['B', 'T']);
  const bias = g.input(stepNames.bias, 'float32', ['B', 1, 'T', 'S']);
  const past = Array.from({ length: cfg.numLayers }, (_, l) => ({
    k: g.input(stepNames.pastK(l), 'float32', ['B', cfg.numKvHeads, 'P', cfg.headDim]),
    v: g.input(stepNames.pastV(l), 'float32', ['B', cfg.numKvHeads, 'P', cfg.headDim]),
  }));
  const layers = Array.from({ length: cfg.numLayers + 1 }, (_, l) => l);
  const body = buildBody(o, cfg, initializerSource(g, weights), { ids, positions, bias, past }, { hiddenLayers: layers });
  g.output(body.hidden, stepNames.hidden);
  body.present.forEach((p, l) => { g.output(p.k, stepNames.presentK(l)); g.output(p.v, stepNames.presentV(l)); });
  for (const [l, v] of body.layerHidden) g.output(v, stepNames.layer(l));
  return g;
}

export const headNames = { hidden: 'hidden_rows', targets: 'targets', logprobs: 'logprobs', targetLogprobs: 'target_logprobs' };

export function buildHeadGraph(cfg: ModelConfig, weights: Weights): Graph {
  const g = new Graph('head');
  const o = new Ops(g);
  const p = initializerSource(g, weights);
  const h = g.input(headNames.hidden, 'float32', ['N', cfg.hiddenSize]);
  const targets = g.input(headNames.targets, 'int64', ['N']);
  const logits = o.matmul(h, p.linear(lmHeadName(cfg, p)));
  const logprobs = o.logSoftmax(logits, -1);
  g.output(logprobs, headNames.logprobs);
  g.output(o.squeeze(o.gatherElements(logprobs, o.unsqueeze(targets, [1]), 1), [1]), headNames.targetLogprobs);
  return g;
}
