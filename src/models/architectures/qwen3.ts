/**
 * Qwen3: the llama layer with an RMSNorm on each query and key head before RoPE (`q_norm`,
 * `k_norm`, weights [head_dim]), head_dim independent of hidden_size, biases only when
 * attention_bias (then on o_proj too), Qwen2's sliding-window fields.
 */
import {
  decoderConfigToHf,
  decoderInitRule,
  decoderWeightShapes,
  parseDecoderConfig,
  parseRopeScaling,
  uniformAttention,
  untiedHead,
  withRopeScaling,
} from './decoder-config.ts';
import { buildDecoderBody, type DecoderLayout } from './decoder.ts';
import { llamaLayerShapes, llamaLayout, parseQwenWindow, qwenWindowToHf } from './llama.ts';
import type { ArchitectureSpec } from './spec.ts';

const layout: DecoderLayout = { ...llamaLayout, qkNorm: true };

export const qwen3: ArchitectureSpec = {
  architecture: 'Qwen3ForCausalLM',
  modelType: 'qwen3',
  family: 'qwen3',
  sequenceClassifier: 'Qwen3ForSequenceClassification',
  parseConfig(f) {
    const cfg = parseDecoderConfig(f, {
      family: 'qwen3',
      architecture: 'Qwen3ForCausalLM',
      activation: { field: 'hidden_act', allowed: ['silu'] },
    });
    const withBias = { ...cfg, attentionBias: f.boolean('attention_bias', false) };
    return parseQwenWindow(f, withRopeScaling(withBias, parseRopeScaling(f)));
  },
  toHfConfig: (cfg) => ({
    ...decoderConfigToHf(cfg, 'qwen3', 'hidden_act', 'silu'),
    attention_bias: cfg.attentionBias,
    ...qwenWindowToHf(cfg),
  }),
  weightShapes: (cfg) =>
    decoderWeightShapes(cfg, (add) => {
      llamaLayerShapes(cfg, { qkv: cfg.attentionBias, out: cfg.attentionBias })(add);
      add('self_attn.q_norm.weight', [cfg.headDim]);
      add('self_attn.k_norm.weight', [cfg.headDim]);
    }),
  attention: (cfg) => uniformAttention(cfg),
  buildBody: (o, cfg, p, io, options, layers) => buildDecoderBody(o, cfg, p, io, options, layout, layers),
  lmHead: (cfg, p) => ({ weight: untiedHead(cfg, (n) => p.has(n)), softcap: null }),
  loraTargets: ['q_proj', 'v_proj'],
  isConv1d: () => false,
  initRule: decoderInitRule,
  describe: (cfg) => ['q/k norms', ...(cfg.attentionBias ? ['attention biases'] : [])],
};
