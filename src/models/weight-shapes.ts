/**
 * The HF tensor names and shapes a config implies, and the check that a checkpoint has them.
 * Linear weights are [out, in]; GPT-2's Conv1D weights are [in, out].
 */
import { formatError } from '../errors.ts';
import type { ModelConfig } from './config.ts';
import { formatShape, sameShape } from './shape.ts';

/**
 * Tensors a checkpoint may hold that are not weights: causal-mask and RoPE buffers saved by
 * older transformers versions. They are skipped when loading.
 */
export function isKnownBuffer(name: string): boolean {
  return /(^|\.)attn\.(masked_)?bias$/.test(name) || /rotary_emb\.inv_freq$/.test(name);
}

/**
 * Every tensor `cfg` needs, name -> shape. GPT-2 names carry `gpt2Prefix`
 * ('transformer.' as save_pretrained writes; '' as in the original hub files).
 */
export function expectedWeightShapes(cfg: ModelConfig, gpt2Prefix = 'transformer.'): Map<string, number[]> {
  const shapes = new Map<string, number[]>();
  const d = cfg.hiddenSize;
  const ff = cfg.intermediateSize;
  if (cfg.family === 'gpt2') {
    const p = gpt2Prefix;
    shapes.set(`${p}wte.weight`, [cfg.vocabSize, d]);
    shapes.set(`${p}wpe.weight`, [cfg.maxPositions, d]);
    for (let l = 0; l < cfg.numLayers; l++) {
      const pre = `${p}h.${l}.`;
      for (const ln of ['ln_1', 'ln_2']) {
        shapes.set(`${pre}${ln}.weight`, [d]);
        shapes.set(`${pre}${ln}.bias`, [d]);
      }
      shapes.set(`${pre}attn.c_attn.weight`, [d, 3 * d]);
      shapes.set(`${pre}attn.c_attn.bias`, [3 * d]);
      shapes.set(`${pre}attn.c_proj.weight`, [d, d]);
      shapes.set(`${pre}attn.c_proj.bias`, [d]);
      shapes.set(`${pre}mlp.c_fc.weight`, [d, ff]);
      shapes.set(`${pre}mlp.c_fc.bias`, [ff]);
      shapes.set(`${pre}mlp.c_proj.weight`, [ff, d]);
      shapes.set(`${pre}mlp.c_proj.bias`, [d]);
    }
    shapes.set(`${p}ln_f.weight`, [d]);
    shapes.set(`${p}ln_f.bias`, [d]);
  } else {
    const q = cfg.numHeads * cfg.headDim;
    const kv = cfg.numKvHeads * cfg.headDim;
    shapes.set('model.embed_tokens.weight', [cfg.vocabSize, d]);
    for (let l = 0; l < cfg.numLayers; l++) {
      const pre = `model.layers.${l}.`;
      shapes.set(`${pre}input_layernorm.weight`, [d]);
      shapes.set(`${pre}self_attn.q_proj.weight`, [q, d]);
      shapes.set(`${pre}self_attn.k_proj.weight`, [kv, d]);
      shapes.set(`${pre}self_attn.v_proj.weight`, [kv, d]);
      shapes.set(`${pre}self_attn.o_proj.weight`, [d, q]);
      if (cfg.attentionBias) {
        shapes.set(`${pre}self_attn.q_proj.bias`, [q]);
        shapes.set(`${pre}self_attn.k_proj.bias`, [kv]);
        shapes.set(`${pre}self_attn.v_proj.bias`, [kv]);
        // HF's LlamaAttention puts attention_bias on o_proj too; Qwen2 does not
        if (cfg.architecture === 'LlamaForCausalLM') shapes.set(`${pre}self_attn.o_proj.bias`, [d]);
      }
      shapes.set(`${pre}post_attention_layernorm.weight`, [d]);
      shapes.set(`${pre}mlp.gate_proj.weight`, [ff, d]);
      shapes.set(`${pre}mlp.up_proj.weight`, [ff, d]);
      shapes.set(`${pre}mlp.down_proj.weight`, [d, ff]);
    }
    shapes.set('model.norm.weight', [d]);
  }
  if (!cfg.tieWordEmbeddings) shapes.set('lm_head.weight', [cfg.vocabSize, d]);
  return shapes;
}

/** 'transformer.' or '' — whichever naming a GPT-2 checkpoint uses. */
export function gpt2PrefixOf(names: Iterable<string>): string {
  for (const name of names) if (name.startsWith('transformer.')) return 'transformer.';
  return '';
}

/**
 * Checks that `shapes` (name -> shape, as a checkpoint holds them) has every tensor `cfg` needs,
 * with the right shape, and nothing the config does not explain. `file` names the checkpoint.
 * A tied lm_head.weight that is present anyway is accepted (some writers keep it).
 */
export function checkWeightShapes(cfg: ModelConfig, shapes: Map<string, number[]>, file: string): void {
  const expected = expectedWeightShapes(cfg, cfg.family === 'gpt2' ? gpt2PrefixOf(shapes.keys()) : undefined);
  const dims = describeDims(cfg);
  for (const [name, shape] of expected) {
    const found = shapes.get(name);
    if (!found)
      throw formatError(`tensor "${name}" is missing (expected shape ${formatShape(shape)}; config: ${dims})`, {
        file,
      });
    if (!sameShape(found, shape)) {
      throw formatError(
        `tensor "${name}" has shape ${formatShape(found)}, expected ${formatShape(shape)} (config: ${dims})`,
        { file },
      );
    }
  }
  for (const [name, shape] of shapes) {
    if (expected.has(name) || isKnownBuffer(name)) continue;
    if (name === 'lm_head.weight' && sameShape(shape, [cfg.vocabSize, cfg.hiddenSize])) continue;
    throw formatError(`unexpected tensor "${name}" ${formatShape(shape)}: the config (${dims}) has no place for it`, {
      file,
    });
  }
}

function describeDims(cfg: ModelConfig): string {
  const parts = [
    `${cfg.architecture}`,
    `vocab ${cfg.vocabSize}`,
    `hidden ${cfg.hiddenSize}`,
    `${cfg.numLayers} layers`,
    `${cfg.numHeads} heads`,
    cfg.family === 'llama' ? `${cfg.numKvHeads} kv heads of ${cfg.headDim}` : `head size ${cfg.headDim}`,
    `intermediate ${cfg.intermediateSize}`,
  ];
  if (cfg.family === 'gpt2') parts.push(`${cfg.maxPositions} positions`);
  if (cfg.attentionBias && cfg.family === 'llama') parts.push('attention biases');
  parts.push(cfg.tieWordEmbeddings ? 'tied embeddings' : 'separate lm_head');
  return parts.join(', ');
}
