/**
 * The llama family: Llama 1–3.x (RoPE scaling `llama3` / `linear` / `yarn`, tied embeddings,
 * explicit head_dim; SmolLM2 is a Llama), Qwen2/2.5 (q/k/v biases, sliding window on the layers
 * from max_window_layers on) and Mistral (sliding window on every layer). RMSNorm, RoPE,
 * grouped-query attention, SwiGLU.
 */
import type { LayerType, ModelConfig } from '../config.ts';
import type { ConfigFields } from './config-fields.ts';
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
import { buildDecoderBody, gatedMlp, outProjection, separateQkv, type DecoderLayout } from './decoder.ts';
import type { ArchitectureSpec } from './spec.ts';

export const llamaLayout: DecoderLayout = {
  projectQkv: separateQkv,
  projectOut: outProjection,
  mlp: gatedMlp('silu'),
  norms: { preAttention: 'input_layernorm.weight', preMlp: 'post_attention_layernorm.weight' },
};

/** The tensors of one llama-style layer: separate q/k/v/o, SwiGLU, two norms; biases as the architecture has them. */
export function llamaLayerShapes(cfg: ModelConfig, biases: { qkv: boolean; out: boolean }) {
  const d = cfg.hiddenSize;
  const q = cfg.numHeads * cfg.headDim;
  const kv = cfg.numKvHeads * cfg.headDim;
  const ff = cfg.intermediateSize;
  return (add: (name: string, shape: number[]) => void) => {
    add('input_layernorm.weight', [d]);
    add('self_attn.q_proj.weight', [q, d]);
    add('self_attn.k_proj.weight', [kv, d]);
    add('self_attn.v_proj.weight', [kv, d]);
    add('self_attn.o_proj.weight', [d, q]);
    if (biases.qkv) {
      add('self_attn.q_proj.bias', [q]);
      add('self_attn.k_proj.bias', [kv]);
      add('self_attn.v_proj.bias', [kv]);
    }
    if (biases.out) add('self_attn.o_proj.bias', [d]);
    add('post_attention_layernorm.weight', [d]);
    add('mlp.gate_proj.weight', [ff, d]);
    add('mlp.up_proj.weight', [ff, d]);
    add('mlp.down_proj.weight', [d, ff]);
  };
}

/** What the three architectures share; `variant` reads and writes what differs. */
function llamaFamilySpec(
  architecture: string,
  modelType: string,
  variant: {
    parse(f: ConfigFields, cfg: ModelConfig): ModelConfig;
    toHf(cfg: ModelConfig): Record<string, unknown>;
    /** o_proj has a bias when attention_bias is set (Llama; Qwen2 biases only q/k/v) */
    outBias: boolean;
  },
): ArchitectureSpec {
  return {
    architecture,
    modelType,
    family: 'llama',
    sequenceClassifier: architecture.replace('ForCausalLM', 'ForSequenceClassification'),
    parseConfig(f) {
      const cfg = parseDecoderConfig(f, {
        family: 'llama',
        architecture,
        activation: { field: 'hidden_act', allowed: ['silu'] },
      });
      const scaled = withRopeScaling(cfg, parseRopeScaling(f));
      if (f.boolean('mlp_bias', false)) throw f.error('mlp_bias', 'MLP biases are not supported');
      return variant.parse(f, scaled);
    },
    toHfConfig(cfg) {
      return { ...decoderConfigToHf(cfg, modelType, 'hidden_act', 'silu'), ...variant.toHf(cfg) };
    },
    weightShapes: (cfg) =>
      decoderWeightShapes(
        cfg,
        llamaLayerShapes(cfg, { qkv: cfg.attentionBias, out: cfg.attentionBias && variant.outBias }),
      ),
    attention: (cfg) => uniformAttention(cfg),
    buildBody: (o, cfg, p, io, options, layers) => buildDecoderBody(o, cfg, p, io, options, llamaLayout, layers),
    lmHead: (cfg, p) => ({ weight: untiedHead(cfg, (n) => p.has(n)), softcap: null }),
    loraTargets: ['q_proj', 'v_proj'],
    isConv1d: () => false,
    initRule: decoderInitRule,
    describe: (cfg) => (cfg.attentionBias ? ['attention biases'] : []),
  };
}

export const llama = llamaFamilySpec('LlamaForCausalLM', 'llama', {
  parse: (f, cfg) => ({ ...cfg, attentionBias: f.boolean('attention_bias', false) }),
  toHf(cfg) {
    if (cfg.slidingWindow !== null) throw cannotExpress(cfg, 'slidingWindow', 'sliding-window attention');
    return { attention_bias: cfg.attentionBias, mlp_bias: false };
  },
  outBias: true,
});

export const mistral = llamaFamilySpec('MistralForCausalLM', 'mistral', {
  parse: (f, cfg) => ({
    ...cfg,
    slidingWindow: f.get('sliding_window') === null ? null : f.positiveInt('sliding_window', 4096),
  }),
  toHf(cfg) {
    if (cfg.attentionBias) throw cannotExpress(cfg, 'attentionBias', 'attention biases');
    if (cfg.layerTypes) throw cannotExpress(cfg, 'layerTypes', 'a sliding window on some layers only');
    return { sliding_window: cfg.slidingWindow };
  },
  outBias: false,
});

export const qwen2 = llamaFamilySpec('Qwen2ForCausalLM', 'qwen2', {
  parse: (f, cfg) => parseQwenWindow(f, { ...cfg, attentionBias: true }),
  toHf(cfg) {
    if (!cfg.attentionBias) throw cannotExpress(cfg, 'attentionBias', 'attention without q/k/v biases');
    return qwenWindowToHf(cfg);
  },
  outBias: false,
});

/** Qwen2 and Qwen3 window the layers from max_window_layers on, when use_sliding_window is set. */
export function parseQwenWindow(f: ConfigFields, cfg: ModelConfig): ModelConfig {
  if (!f.boolean('use_sliding_window', false)) return cfg;
  const firstWindowed = f.nonNegativeInt('max_window_layers', 28);
  const types = Array.from({ length: cfg.numLayers }, (_, l): LayerType =>
    l >= firstWindowed ? 'sliding_attention' : 'full_attention',
  );
  return withWindowedLayers(cfg, f.positiveInt('sliding_window'), types);
}

export function qwenWindowToHf(cfg: ModelConfig): Record<string, unknown> {
  const types = cfg.layerTypes ?? Array<LayerType>(cfg.numLayers).fill('sliding_attention');
  const first = types.indexOf('sliding_attention');
  const firstWindowed = first < 0 ? cfg.numLayers : first;
  if (types.slice(firstWindowed).some((t) => t !== 'sliding_attention'))
    throw cannotExpress(cfg, 'layerTypes', 'windowed layers other than the last ones');
  return {
    use_sliding_window: cfg.slidingWindow !== null,
    sliding_window: cfg.slidingWindow ?? cfg.maxPositions,
    max_window_layers: cfg.slidingWindow === null ? cfg.numLayers : firstWindowed,
  };
}

/**
 * A sliding window on the layers `types` marks, in the canonical form: no `layerTypes` when every
 * layer is windowed.
 */
export function withWindowedLayers(cfg: ModelConfig, window: number, types: LayerType[]): ModelConfig {
  const out: ModelConfig = { ...cfg, slidingWindow: window };
  if (types.some((t) => t !== 'sliding_attention')) out.layerTypes = types;
  return out;
}
