/**
 * The decoder stack shared by the RoPE families (Llama, Qwen2/3, Mistral, Gemma 2/3, Phi-3):
 * embeddings, then per layer RMSNorm → attention → residual and RMSNorm → gated MLP → residual,
 * then a final RMSNorm. A family states what differs in a DecoderLayout (how q/k/v and the MLP
 * are projected, which norms surround what, Gemma's 1 + w norms and scaled embeddings, per-head
 * q/k norms); how each layer attends comes from its LayerAttention list.
 */
import type { Value } from '../../engine/graph.ts';
import { AlignkitError } from '../../errors.ts';
import type { Ops } from '../../engine/ops.ts';
import type { ModelConfig } from '../config.ts';
import { embed, project, type ParameterSource } from '../parameters.ts';
import { attention, groupedBias, type SelfAttention } from '../attention.ts';
import { applyRope, ropeTables, rotateHalfMatrix, type RopeSpec } from '../rope.ts';
import type { BodyInputs, BodyOptions, BodyOutputs, LayerAttention } from './spec.ts';

export interface Projected {
  q: Value;
  k: Value;
  v: Value;
}

export interface DecoderLayout {
  /** the layer's queries, keys and values [B, T, heads·hd] from its normed input (`layer` = 'model.layers.N.') */
  projectQkv(o: Ops, p: ParameterSource, layer: string, h: Value): Projected;
  /** the attention output [B, T, H·hd] back to [B, T, D] */
  projectOut(o: Ops, p: ParameterSource, layer: string, att: Value): Value;
  mlp(o: Ops, p: ParameterSource, layer: string, h: Value): Value;
  /** norm weights (names inside the layer) before and after attention and the MLP */
  norms: { preAttention: string; postAttention?: string; preMlp: string; postMlp?: string };
  /** RMSNorm scales by (1 + w) (Gemma) rather than w */
  normPlusOne?: boolean;
  /** multiplies the embeddings (Gemma: √hidden) */
  embeddingScale?: number;
  /** RMSNorm of each query and key head (`self_attn.q_norm`, `self_attn.k_norm`, [hd]) before RoPE */
  qkNorm?: boolean;
}

export function buildDecoderBody(
  o: Ops,
  cfg: ModelConfig,
  p: ParameterSource,
  io: BodyInputs,
  options: BodyOptions,
  layout: DecoderLayout,
  layers: readonly LayerAttention[],
): BodyOutputs {
  const norm = (x: Value, name: string) =>
    o.rmsNorm(x, layout.normPlusOne ? o.add(p.tensor(name), o.scalar(1)) : p.tensor(name), cfg.normEps);
  const perHeadNorm = (x: Value, name: string) =>
    o.reshape(norm(o.reshape(x, [0, 0, -1, cfg.headDim]), name), [0, 0, -1]);
  const selfAttention = io.past
    ? cachedSelfAttention(o, cfg, io, io.past, layers)
    : composedSelfAttention(o, cfg, io, layers);
  const wanted = new Set(options.hiddenLayers ?? []);
  const layerHidden = new Map<number, Value>();
  const newKv: { k: Value; v: Value }[] = [];
  let x = embed(o, p, 'model.embed_tokens.weight', io.ids);
  if (layout.embeddingScale !== undefined) x = o.mul(x, o.scalar(layout.embeddingScale));
  if (wanted.has(0)) layerHidden.set(0, x);

  const { preAttention, postAttention, preMlp, postMlp } = layout.norms;
  for (let l = 0; l < cfg.numLayers; l++) {
    const pre = `model.layers.${l}.`;
    let { q, k, v } = layout.projectQkv(o, p, pre, norm(x, pre + preAttention));
    if (layout.qkNorm) {
      q = perHeadNorm(q, pre + 'self_attn.q_norm.weight');
      k = perHeadNorm(k, pre + 'self_attn.k_norm.weight');
    }
    const att = selfAttention(q, k, v, l);
    if (att.newKv) newKv.push(att.newKv);
    let attended = layout.projectOut(o, p, pre, att.out);
    if (postAttention) attended = norm(attended, pre + postAttention);
    x = o.add(x, attended);
    let mlp = layout.mlp(o, p, pre, norm(x, pre + preMlp));
    if (postMlp) mlp = norm(mlp, pre + postMlp);
    x = o.add(x, mlp);
    if (wanted.has(l + 1)) layerHidden.set(l + 1, x);
  }
  return { hidden: norm(x, 'model.norm.weight'), newKv, layerHidden };
}

/** One cos/sin table pair per distinct RoPE of the model (Gemma 3 has two), shared by the layers using it. */
function ropeTablesOf(layers: readonly LayerAttention[]): { rope: RopeSpec; suffix: string }[] {
  const distinct = new Map<string, RopeSpec>();
  for (const layer of layers) if (layer.rope) distinct.set(JSON.stringify(layer.rope), layer.rope);
  // the first table keeps the plain names, so single-RoPE graphs are as before
  return [...distinct.values()].map((rope, i) => ({ rope, suffix: i === 0 ? '' : `_${i}` }));
}

function tableIndex(layers: readonly LayerAttention[], tables: { rope: RopeSpec }[], l: number): number {
  const key = JSON.stringify(layers[l].rope);
  return tables.findIndex((t) => JSON.stringify(t.rope) === key);
}

function biasOf(io: BodyInputs, layer: LayerAttention): Value {
  const bias = layer.window === null ? io.bias : io.windowBias;
  if (!bias)
    throw new AlignkitError(
      'internal',
      `no attention bias given for ${layer.window === null ? 'full-attention' : 'windowed'} layers`,
    );
  return bias;
}

/** Attention without a cache, of standard differentiable ops: RoPE as x·cos + (x·R)·sin, grouped heads. */
function composedSelfAttention(
  o: Ops,
  cfg: ModelConfig,
  io: BodyInputs,
  layers: readonly LayerAttention[],
): SelfAttention {
  const { numHeads: H, numKvHeads: Hkv, headDim: hd, maxPositions } = cfg;
  const tables = ropeTablesOf(layers).map(({ rope, suffix }) => {
    const t = ropeTables(maxPositions, hd, rope);
    const cos = o.g.tensor('rope_cos' + suffix, 'float32', [maxPositions, hd], t.cos);
    const sin = o.g.tensor('rope_sin' + suffix, 'float32', [maxPositions, hd], t.sin);
    return {
      rope,
      cos: o.unsqueeze(o.gather(cos, io.positions), [1]),
      sin: o.unsqueeze(o.gather(sin, io.positions), [1]),
    };
  });
  const rotate = o.g.tensor('rope_rotate', 'float32', [hd, hd], rotateHalfMatrix(hd));
  const grouped = new Map<Value, Value>();
  const groupedBiasOf = (bias: Value) => {
    if (!grouped.has(bias)) grouped.set(bias, groupedBias(o, bias, H, Hkv));
    return grouped.get(bias)!;
  };
  const heads = (t: Value, n: number) => o.transpose(o.reshape(t, [0, 0, n, hd]), [0, 2, 1, 3]);
  return (q, k, v, l) => {
    const { cos, sin } = tables[tableIndex(layers, tables, l)];
    return {
      out: attention(o, {
        q: applyRope(o, heads(q, H), cos, sin, rotate),
        k: applyRope(o, heads(k, Hkv), cos, sin, rotate),
        v: heads(v, Hkv),
        bias: groupedBiasOf(biasOf(io, layers[l])),
        numHeads: H,
        numKvHeads: Hkv,
        headDim: hd,
        scale: layers[l].scale,
        softcap: layers[l].softcap,
      }),
    };
  };
}

/** Attention over a cache with onnxruntime's RotaryEmbedding and Attention kernels: 3 nodes per layer instead of ~30. */
function cachedSelfAttention(
  o: Ops,
  cfg: ModelConfig,
  io: BodyInputs,
  past: NonNullable<BodyInputs['past']>,
  layers: readonly LayerAttention[],
): SelfAttention {
  const { numHeads: H, numKvHeads: Hkv, headDim: hd, maxPositions } = cfg;
  const tables = ropeTablesOf(layers).map(({ rope, suffix }) => {
    const t = ropeTables(maxPositions, hd, rope, 'half');
    return {
      rope,
      cos: o.g.tensor('rope_cos' + suffix, 'float32', [maxPositions, hd / 2], t.cos),
      sin: o.g.tensor('rope_sin' + suffix, 'float32', [maxPositions, hd / 2], t.sin),
    };
  });
  const defaultScale = 1 / Math.sqrt(hd);
  return (q, k, v, l) => {
    const layer = layers[l];
    const { cos, sin } = tables[tableIndex(layers, tables, l)];
    const rotate = (x: Value, heads: number) => o.rotaryEmbedding(x, cos, sin, io.positions, heads);
    const keys = rotate(k, Hkv);
    const out = o.attention(rotate(q, H), keys, v, biasOf(io, layer), past[l].k, past[l].v, H, Hkv, {
      scale: layer.scale === defaultScale ? undefined : layer.scale,
      softcap: layer.softcap ?? undefined,
    });
    return { out, newKv: { k: keys, v } };
  };
}

// ---- the projections and MLPs the families combine ----

/** q_proj, k_proj, v_proj (with biases when the checkpoint has them). */
export function separateQkv(o: Ops, p: ParameterSource, layer: string, h: Value): Projected {
  const projection = (n: string) => {
    const bias = `${layer}self_attn.${n}.bias`;
    return project(o, p, h, `${layer}self_attn.${n}.weight`, p.has(bias) ? p.tensor(bias) : undefined);
  };
  return { q: projection('q_proj'), k: projection('k_proj'), v: projection('v_proj') };
}

/** o_proj (with a bias when the checkpoint has one: Llama's attention_bias). */
export function outProjection(o: Ops, p: ParameterSource, layer: string, att: Value): Value {
  const bias = `${layer}self_attn.o_proj.bias`;
  return project(o, p, att, `${layer}self_attn.o_proj.weight`, p.has(bias) ? p.tensor(bias) : undefined);
}

/** down(act(gate(h)) · up(h)): SwiGLU with silu, GeGLU with tanh-approximate GELU. */
export function gatedMlp(activation: 'silu' | 'gelu_tanh') {
  return (o: Ops, p: ParameterSource, layer: string, h: Value): Value => {
    const gate = project(o, p, h, layer + 'mlp.gate_proj.weight');
    const up = project(o, p, h, layer + 'mlp.up_proj.weight');
    const act = activation === 'silu' ? o.silu(gate) : o.geluTanh(gate);
    return project(o, p, o.mul(act, up), layer + 'mlp.down_proj.weight');
  };
}
