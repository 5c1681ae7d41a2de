/**
 * Phi-3 / Phi-3.5 (Phi3ForCausalLM): the llama layer with fused projections kept fused as
 * stored — `qkv_proj` [(H + 2·Hkv)·hd, D] split into q, k, v after one matmul, `gate_up_proj`
 * [2·ff, D] split into gate and up — and a sliding window on every layer where set. `longrope`
 * (Phi-3.5, the 128k models) is refused by name when the config is read.
 */
import type { Value } from '../../engine/graph.ts';
import type { Ops } from '../../engine/ops.ts';
import type { ModelConfig } from '../config.ts';
import { project, type ParameterSource } from '../parameters.ts';
import {
  cannotExpress,
  decoderConfigToHf,
  decoderInitRule,
  decoderWeightShapes,
  parseDecoderConfig,
  parseRopeScaling,
  uniformAttention,
  untiedHead,
  withRopeScaling,
} from './decoder-config.ts';
import { buildDecoderBody, outProjection, type DecoderLayout } from './decoder.ts';
import type { ArchitectureSpec } from './spec.ts';

/** Columns [from, to) of the last axis. */
const columns = (o: Ops, x: Value, from: number, to: number) => o.slice(x, [from], [to], [2]);

function layout(cfg: ModelConfig): DecoderLayout {
  const q = cfg.numHeads * cfg.headDim;
  const kv = cfg.numKvHeads * cfg.headDim;
  const ff = cfg.intermediateSize;
  return {
    projectQkv(o: Ops, p: ParameterSource, layer: string, h: Value) {
      const qkv = project(o, p, h, layer + 'self_attn.qkv_proj.weight');
      return { q: columns(o, qkv, 0, q), k: columns(o, qkv, q, q + kv), v: columns(o, qkv, q + kv, q + 2 * kv) };
    },
    projectOut: outProjection,
    mlp(o: Ops, p: ParameterSource, layer: string, h: Value) {
      const gateUp = project(o, p, h, layer + 'mlp.gate_up_proj.weight');
      const act = o.mul(o.silu(columns(o, gateUp, 0, ff)), columns(o, gateUp, ff, 2 * ff));
      return project(o, p, act, layer + 'mlp.down_proj.weight');
    },
    norms: { preAttention: 'input_layernorm.weight', preMlp: 'post_attention_layernorm.weight' },
  };
}

export const phi3: ArchitectureSpec = {
  architecture: 'Phi3ForCausalLM',
  modelType: 'phi3',
  family: 'phi3',
  sequenceClassifier: 'Phi3ForSequenceClassification',
  parseConfig(f) {
    if (f.boolean('attention_bias', false)) throw f.error('attention_bias', 'attention biases are not supported');
    const cfg = parseDecoderConfig(f, {
      family: 'phi3',
      architecture: 'Phi3ForCausalLM',
      activation: { field: 'hidden_act', allowed: ['silu'] },
      normEps: 1e-5,
    });
    const scaled = withRopeScaling(cfg, parseRopeScaling(f));
    return f.has('sliding_window') ? { ...scaled, slidingWindow: f.positiveInt('sliding_window') } : scaled;
  },
  toHfConfig(cfg) {
    if (cfg.attentionBias) throw cannotExpress(cfg, 'attentionBias', 'attention biases');
    if (cfg.layerTypes) throw cannotExpress(cfg, 'layerTypes', 'a sliding window on some layers only');
    return {
      ...decoderConfigToHf(cfg, 'phi3', 'hidden_act', 'silu'),
      original_max_position_embeddings: cfg.maxPositions,
      sliding_window: cfg.slidingWindow,
    };
  },
  weightShapes(cfg) {
    const d = cfg.hiddenSize;
    const q = cfg.numHeads * cfg.headDim;
    return decoderWeightShapes(cfg, (add) => {
      add('input_layernorm.weight', [d]);
      add('self_attn.qkv_proj.weight', [q + 2 * cfg.numKvHeads * cfg.headDim, d]);
      add('self_attn.o_proj.weight', [d, q]);
      add('post_attention_layernorm.weight', [d]);
      add('mlp.gate_up_proj.weight', [2 * cfg.intermediateSize, d]);
      add('mlp.down_proj.weight', [d, cfg.intermediateSize]);
    });
  },
  attention: (cfg) => uniformAttention(cfg),
  buildBody: (o, cfg, p, io, options, layers) => buildDecoderBody(o, cfg, p, io, options, layout(cfg), layers),
  lmHead: (cfg, p) => ({ weight: untiedHead(cfg, (n) => p.has(n)), softcap: null }),
  loraTargets: ['qkv_proj'],
  isConv1d: () => false,
  initRule: decoderInitRule,
};
