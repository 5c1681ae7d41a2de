/**
 * One table, keyed by GGUF `general.architecture`, that says how a GGUF model maps onto alignkit's
 * HF-shaped description: its metadata -> the config.json fields of the family (then parsed by the
 * family's own config parser), and its tensor names and layouts <-> the HF names and layouts.
 * (Kept in one place so each entry can move into its family's specification file later.)
 *
 * Layouts: llama.cpp applies RoPE to interleaved pairs for `llama` (HF's converter permutes the
 * q/k rows), to halves for `qwen2` (NeoX style, no permutation); GPT-2's Conv1D weights are
 * [in, out] in HF and [out, in] rows in GGUF.
 */
import type { ModelConfig } from '../config.ts';
import type { GgufFile, GgufEntry } from './gguf-file.ts';
import { gguf } from './gguf-writer.ts';

export type TensorLayout =
  | { kind: 'same' }
  /** q/k rows: interleaved-pair RoPE in GGUF, rotate-half in HF; `heads` of the tensor */
  | { kind: 'rope'; heads: number }
  | { kind: 'transpose' };

export interface TensorMapping {
  hf: string;
  gguf: string;
  layout: TensorLayout;
}

/** What the tensors (not the metadata) tell about a GGUF model. */
export interface TensorFacts {
  vocabSize: number;
  tiedEmbeddings: boolean;
  attentionBias: boolean;
}

export interface GgufArchitecture {
  /** the config.json `architectures[0]` it maps to */
  hfArchitecture: string;
  hfConfig(file: GgufFile, facts: TensorFacts): Record<string, unknown>;
  metadata(cfg: ModelConfig): [string, GgufEntry][];
  tensors(cfg: ModelConfig): TensorMapping[];
}

const same: TensorLayout = { kind: 'same' };
const transpose: TensorLayout = { kind: 'transpose' };

/** Keys every llama-family entry reads, under its own prefix. */
function llamaFamilyConfig(arch: string, hfArchitecture: string, file: GgufFile, facts: TensorFacts) {
  const key = (k: string) => `${arch}.${k}`;
  const hidden = file.count(key('embedding_length'));
  const heads = file.count(key('attention.head_count'));
  const headDim = file.count(key('attention.key_length'), null) ?? hidden / heads;
  const valueLength = file.count(key('attention.value_length'), null);
  if (valueLength !== null && valueLength !== headDim)
    throw file.error(
      key('attention.value_length'),
      `${valueLength} differs from the key length ${headDim} (not supported)`,
    );
  const ropeDims = file.count(key('rope.dimension_count'), null);
  if (ropeDims !== null && ropeDims !== headDim)
    throw file.error(
      key('rope.dimension_count'),
      `partial rotary embeddings (${ropeDims} of ${headDim}) are not supported`,
    );
  const scaling = file.string(key('rope.scaling.type'), null);
  if (scaling !== null && scaling !== 'none')
    throw file.error(key('rope.scaling.type'), `RoPE scaling "${scaling}" is not supported (only plain RoPE)`);
  return {
    architectures: [hfArchitecture],
    vocab_size: facts.vocabSize,
    hidden_size: hidden,
    intermediate_size: file.count(key('feed_forward_length')),
    num_hidden_layers: file.count(key('block_count')),
    num_attention_heads: heads,
    num_key_value_heads: file.count(key('attention.head_count_kv'), heads),
    head_dim: headDim,
    max_position_embeddings: file.count(key('context_length')),
    rms_norm_eps: file.number(key('attention.layer_norm_rms_epsilon')),
    rope_theta: file.number(key('rope.freq_base'), 10000),
    hidden_act: 'silu',
    tie_word_embeddings: facts.tiedEmbeddings,
    bos_token_id: file.count('tokenizer.ggml.bos_token_id', null),
    eos_token_id: file.count('tokenizer.ggml.eos_token_id', null),
    torch_dtype: 'float32',
  };
}

function llamaFamilyMetadata(arch: string, cfg: ModelConfig): [string, GgufEntry][] {
  const key = (k: string) => `${arch}.${k}`;
  const entries: [string, GgufEntry][] = [
    [key('context_length'), gguf.u32(cfg.maxPositions)],
    [key('embedding_length'), gguf.u32(cfg.hiddenSize)],
    [key('block_count'), gguf.u32(cfg.numLayers)],
    [key('feed_forward_length'), gguf.u32(cfg.intermediateSize)],
    [key('attention.head_count'), gguf.u32(cfg.numHeads)],
    [key('attention.head_count_kv'), gguf.u32(cfg.numKvHeads)],
    [key('attention.layer_norm_rms_epsilon'), gguf.f32(cfg.normEps)],
    [key('rope.freq_base'), gguf.f32(cfg.ropeTheta)],
    [key('rope.dimension_count'), gguf.u32(cfg.headDim)],
    [key('vocab_size'), gguf.u32(cfg.vocabSize)],
  ];
  if (cfg.headDim * cfg.numHeads !== cfg.hiddenSize)
    entries.push(
      [key('attention.key_length'), gguf.u32(cfg.headDim)],
      [key('attention.value_length'), gguf.u32(cfg.headDim)],
    );
  return entries;
}

function llamaFamilyTensors(cfg: ModelConfig, ropeInterleaved: boolean): TensorMapping[] {
  const ropeOf = (heads: number): TensorLayout => (ropeInterleaved ? { kind: 'rope', heads } : same);
  const out: TensorMapping[] = [{ hf: 'model.embed_tokens.weight', gguf: 'token_embd.weight', layout: same }];
  for (let l = 0; l < cfg.numLayers; l++) {
    const hf = `model.layers.${l}.`;
    const g = `blk.${l}.`;
    const add = (h: string, n: string, layout: TensorLayout = same) => out.push({ hf: hf + h, gguf: g + n, layout });
    add('input_layernorm.weight', 'attn_norm.weight');
    add('self_attn.q_proj.weight', 'attn_q.weight', ropeOf(cfg.numHeads));
    add('self_attn.k_proj.weight', 'attn_k.weight', ropeOf(cfg.numKvHeads));
    add('self_attn.v_proj.weight', 'attn_v.weight');
    add('self_attn.o_proj.weight', 'attn_output.weight');
    if (cfg.attentionBias) {
      add('self_attn.q_proj.bias', 'attn_q.bias', ropeOf(cfg.numHeads));
      add('self_attn.k_proj.bias', 'attn_k.bias', ropeOf(cfg.numKvHeads));
      add('self_attn.v_proj.bias', 'attn_v.bias');
      if (cfg.architecture === 'LlamaForCausalLM') add('self_attn.o_proj.bias', 'attn_output.bias');
    }
    add('post_attention_layernorm.weight', 'ffn_norm.weight');
    add('mlp.gate_proj.weight', 'ffn_gate.weight');
    add('mlp.up_proj.weight', 'ffn_up.weight');
    add('mlp.down_proj.weight', 'ffn_down.weight');
  }
  out.push({ hf: 'model.norm.weight', gguf: 'output_norm.weight', layout: same });
  if (!cfg.tieWordEmbeddings) out.push({ hf: 'lm_head.weight', gguf: 'output.weight', layout: same });
  return out;
}

export const GGUF_ARCHITECTURES: Record<string, GgufArchitecture> = {
  // Llama 1/2 and Mistral (llama.cpp files Mistral under "llama"; its sliding window is not kept)
  llama: {
    hfArchitecture: 'LlamaForCausalLM',
    hfConfig: (file, facts) => ({
      ...llamaFamilyConfig('llama', 'LlamaForCausalLM', file, facts),
      model_type: 'llama',
      attention_bias: facts.attentionBias,
    }),
    metadata: (cfg) => llamaFamilyMetadata('llama', cfg),
    tensors: (cfg) => llamaFamilyTensors(cfg, true),
  },
  qwen2: {
    hfArchitecture: 'Qwen2ForCausalLM',
    hfConfig: (file, facts) => ({
      ...llamaFamilyConfig('qwen2', 'Qwen2ForCausalLM', file, facts),
      model_type: 'qwen2',
    }),
    metadata: (cfg) => llamaFamilyMetadata('qwen2', cfg),
    tensors: (cfg) => llamaFamilyTensors(cfg, false),
  },
  gpt2: {
    hfArchitecture: 'GPT2LMHeadModel',
    hfConfig: (file, facts) => ({
      architectures: ['GPT2LMHeadModel'],
      model_type: 'gpt2',
      vocab_size: facts.vocabSize,
      n_embd: file.count('gpt2.embedding_length'),
      n_layer: file.count('gpt2.block_count'),
      n_head: file.count('gpt2.attention.head_count'),
      n_inner: file.count('gpt2.feed_forward_length', null),
      n_positions: file.count('gpt2.context_length'),
      layer_norm_epsilon: file.number('gpt2.attention.layer_norm_epsilon'),
      tie_word_embeddings: facts.tiedEmbeddings,
      bos_token_id: file.count('tokenizer.ggml.bos_token_id', null),
      eos_token_id: file.count('tokenizer.ggml.eos_token_id', null),
      torch_dtype: 'float32',
    }),
    metadata: (cfg) => [
      ['gpt2.context_length', gguf.u32(cfg.maxPositions)],
      ['gpt2.embedding_length', gguf.u32(cfg.hiddenSize)],
      ['gpt2.block_count', gguf.u32(cfg.numLayers)],
      ['gpt2.feed_forward_length', gguf.u32(cfg.intermediateSize)],
      ['gpt2.attention.head_count', gguf.u32(cfg.numHeads)],
      ['gpt2.attention.layer_norm_epsilon', gguf.f32(cfg.normEps)],
      ['gpt2.vocab_size', gguf.u32(cfg.vocabSize)],
    ],
    tensors: (cfg) => {
      const p = 'transformer.';
      const out: TensorMapping[] = [
        { hf: `${p}wte.weight`, gguf: 'token_embd.weight', layout: same },
        { hf: `${p}wpe.weight`, gguf: 'position_embd.weight', layout: same },
      ];
      for (let l = 0; l < cfg.numLayers; l++) {
        const add = (h: string, n: string, layout: TensorLayout = same) =>
          out.push({ hf: `${p}h.${l}.${h}`, gguf: `blk.${l}.${n}`, layout });
        for (const [h, n] of [
          ['ln_1', 'attn_norm'],
          ['ln_2', 'ffn_norm'],
        ]) {
          add(`${h}.weight`, `${n}.weight`);
          add(`${h}.bias`, `${n}.bias`);
        }
        for (const [h, n] of [
          ['attn.c_attn', 'attn_qkv'],
          ['attn.c_proj', 'attn_output'],
          ['mlp.c_fc', 'ffn_up'],
          ['mlp.c_proj', 'ffn_down'],
        ]) {
          add(`${h}.weight`, `${n}.weight`, transpose);
          add(`${h}.bias`, `${n}.bias`);
        }
      }
      out.push(
        { hf: `${p}ln_f.weight`, gguf: 'output_norm.weight', layout: same },
        { hf: `${p}ln_f.bias`, gguf: 'output_norm.bias', layout: same },
      );
      if (!cfg.tieWordEmbeddings) out.push({ hf: 'lm_head.weight', gguf: 'output.weight', layout: same });
      return out;
    },
  },
};

export const SUPPORTED_GGUF_ARCHITECTURES = Object.keys(GGUF_ARCHITECTURES);

/** The GGUF architecture a model is written as: Mistral goes under "llama", as llama.cpp's converter does. */
export function ggufArchitectureOf(cfg: ModelConfig): string | undefined {
  if (cfg.architecture === 'MistralForCausalLM') return 'llama';
  return Object.entries(GGUF_ARCHITECTURES).find(([, a]) => a.hfArchitecture === cfg.architecture)?.[0];
}
