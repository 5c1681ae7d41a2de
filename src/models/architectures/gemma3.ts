/**
 * Gemma 3 (the text model, Gemma3ForCausalLM): Gemma 2's layer and norms, plus (1 + w) RMSNorms
 * on each query and key head; five sliding-window layers to one global layer
 * (sliding_window_pattern, or layer_types); the windowed layers rotate with their own base
 * (rope_local_base_freq) and no scaling, the global ones with rope_theta and rope_scaling.
 * Soft-capping only where the config sets it (the published ones do not).
 */
import type { ModelConfig } from '../config.ts';
import { decoderWeightShapes, uniformAttention } from './decoder-config.ts';
import { buildDecoderBody } from './decoder.ts';
import { gemma2, gemmaConfigToHf, gemmaLayerShapes, gemmaLayout, gemmaLogits, parseGemmaConfig } from './gemma2.ts';
import type { ArchitectureSpec, LayerAttention } from './spec.ts';

/** Global layers: rope_theta with the config's scaling; windowed layers: the local base, unscaled. */
function attention(cfg: ModelConfig): LayerAttention[] {
  const local = { theta: cfg.localRopeTheta ?? 10000, scaling: null };
  return uniformAttention(cfg, gemmaLogits(cfg)).map((layer) =>
    layer.window === null ? layer : { ...layer, rope: local },
  );
}

export const gemma3: ArchitectureSpec = {
  ...gemma2,
  architecture: 'Gemma3ForCausalLM',
  modelType: 'gemma3_text',
  family: 'gemma3',
  sequenceClassifier: 'Gemma3TextForSequenceClassification',
  parseConfig(f) {
    const parameters = f.get('rope_parameters') as Record<string, unknown> | null | undefined;
    if (parameters && typeof parameters === 'object' && 'full_attention' in parameters)
      throw f.error(
        'rope_parameters',
        'per-layer-type RoPE parameters (transformers 5) are not read; use rope_theta, rope_local_base_freq and rope_scaling',
      );
    const pattern = f.positiveInt('sliding_window_pattern', 6);
    const cfg = parseGemmaConfig(f, 'gemma3', 'Gemma3ForCausalLM', {
      softcaps: { attention: null, final: null },
      pattern: (l) => ((l + 1) % pattern === 0 ? 'full_attention' : 'sliding_attention'),
    });
    return { ...cfg, localRopeTheta: f.positiveNumber('rope_local_base_freq', 10000) };
  },
  toHfConfig: (cfg) => ({ ...gemmaConfigToHf(cfg, 'gemma3_text'), rope_local_base_freq: cfg.localRopeTheta ?? 10000 }),
  weightShapes: (cfg) =>
    decoderWeightShapes(cfg, (add) => {
      gemmaLayerShapes(cfg)(add);
      add('self_attn.q_norm.weight', [cfg.headDim]);
      add('self_attn.k_norm.weight', [cfg.headDim]);
    }),
  attention,
  buildBody: (o, cfg, p, io, options, layers) =>
    buildDecoderBody(o, cfg, p, io, options, { ...gemmaLayout(cfg), qkNorm: true }, layers),
};
