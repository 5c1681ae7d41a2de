import type { Value } from '../engine/graph.ts';
import type { Ops } from '../engine/ops.ts';
import type { ModelConfig } from './config.ts';
import type { ParameterSource } from './parameters.ts';
import type { BodyInputs, BodyOptions, BodyOutputs } from './transformer.ts';
import { attention, groupedBias, type SelfAttention } from './attention.ts';
import { applyRope, ropeTables, rotateHalfMatrix } from './rope.ts';

/** Llama / Qwen2 / Mistral: RMSNorm, RoPE, grouped-query attention (optional q/k/v bias), SwiGLU. */
export function buildLlamaBody(
  o: Ops,
  cfg: ModelConfig,
  p: ParameterSource,
  io: BodyInputs,
  options: BodyOptions,
): BodyOutputs {
  const selfAttention = io.past ? cachedSelfAttention(o, cfg, io, io.past) : composedSelfAttention(o, cfg, io);
  const wanted = new Set(options.hiddenLayers ?? []);
  const layerHidden = new Map<number, Value>();
  const newKv: { k: Value; v: Value }[] = [];
  let x = o.gather(p.tensor('model.embed_tokens.weight'), io.ids);
  if (wanted.has(0)) layerHidden.set(0, x);

  for (let l = 0; l < cfg.numLayers; l++) {
    const pre = `model.layers.${l}.`;
    const h = o.rmsNorm(x, p.tensor(pre + 'input_layernorm.weight'), cfg.normEps);
    const project = (n: string) =>
      o.affine(
        h,
        p.linear(pre + `self_attn.${n}.weight`),
        cfg.attentionBias ? p.tensor(pre + `self_attn.${n}.bias`) : undefined,
      );
    const att = selfAttention(project('q_proj'), project('k_proj'), project('v_proj'), l);
    if (att.newKv) newKv.push(att.newKv);
    // Llama with attention_bias also biases o_proj (Qwen2 biases only q/k/v)
    x = o.add(
      x,
      o.affine(
        att.out,
        p.linear(pre + 'self_attn.o_proj.weight'),
        p.has(pre + 'self_attn.o_proj.bias') ? p.tensor(pre + 'self_attn.o_proj.bias') : undefined,
      ),
    );
    const h2 = o.rmsNorm(x, p.tensor(pre + 'post_attention_layernorm.weight'), cfg.normEps);
    const gate = o.silu(o.matmul(h2, p.linear(pre + 'mlp.gate_proj.weight')));
    const up = o.matmul(h2, p.linear(pre + 'mlp.up_proj.weight'));
    x = o.add(x, o.matmul(o.mul(gate, up), p.linear(pre + 'mlp.down_proj.weight')));
    if (wanted.has(l + 1)) layerHidden.set(l + 1, x);
  }
  return { hidden: o.rmsNorm(x, p.tensor('model.norm.weight'), cfg.normEps), newKv, layerHidden };
}

/** Attention without a cache, of standard differentiable ops: RoPE as x·cos + (x·R)·sin, grouped heads. */
function composedSelfAttention(o: Ops, cfg: ModelConfig, io: BodyInputs): SelfAttention {
  const { numHeads: H, numKvHeads: Hkv, headDim: hd } = cfg;
  const tables = ropeTables(cfg.maxPositions, hd, cfg.ropeTheta);
  const cosTable = o.g.tensor('rope_cos', 'float32', [cfg.maxPositions, hd], tables.cos);
  const sinTable = o.g.tensor('rope_sin', 'float32', [cfg.maxPositions, hd], tables.sin);
  const rotate = o.g.tensor('rope_rotate', 'float32', [hd, hd], rotateHalfMatrix(hd));
  const cos = o.unsqueeze(o.gather(cosTable, io.positions), [1]);
  const sin = o.unsqueeze(o.gather(sinTable, io.positions), [1]);
  const bias = groupedBias(o, io.bias, H, Hkv);
  const heads = (t: Value, n: number) => o.transpose(o.reshape(t, [0, 0, n, hd]), [0, 2, 1, 3]);
  return (q, k, v) => ({
    out: attention(o, {
      q: applyRope(o, heads(q, H), cos, sin, rotate),
      k: applyRope(o, heads(k, Hkv), cos, sin, rotate),
      v: heads(v, Hkv),
      bias,
      numHeads: H,
      numKvHeads: Hkv,
      headDim: hd,
    }),
  });
}

/** Attention over a cache with onnxruntime's RotaryEmbedding and Attention kernels: 3 nodes per layer instead of ~30. */
function cachedSelfAttention(
  o: Ops,
  cfg: ModelConfig,
  io: BodyInputs,
  past: NonNullable<BodyInputs['past']>,
): SelfAttention {
  const { numHeads: H, numKvHeads: Hkv, headDim: hd } = cfg;
  const tables = ropeTables(cfg.maxPositions, hd, cfg.ropeTheta, 'half');
  const cos = o.g.tensor('rope_cos', 'float32', [cfg.maxPositions, hd / 2], tables.cos);
  const sin = o.g.tensor('rope_sin', 'float32', [cfg.maxPositions, hd / 2], tables.sin);
  const rotate = (x: Value, heads: number) => o.rotaryEmbedding(x, cos, sin, io.positions, heads);
  return (q, k, v, l) => {
    const keys = rotate(k, Hkv);
    return { out: o.attention(rotate(q, H), keys, v, io.bias, past[l].k, past[l].v, H, Hkv), newKv: { k: keys, v } };
  };
}
