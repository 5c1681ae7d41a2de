/**
 * The `contrib` flavour of a llama-family decode step: the same computation as
 * inference-graphs.ts' step graph, written with onnxruntime's contrib kernels (packed q|k|v and
 * gate|up matmuls, SkipSimplifiedLayerNormalization folding each residual add into the next
 * RMSNorm, QuickGelu for SiLU; attention by opset-23 Attention or GroupQueryAttention, RoPE in
 * the latter where the head size allows it), optionally with weight-only quantized matmuls
 * (MatMulNBits).
 *
 * With opset-23 Attention (the default) it takes the standard step's inputs and gives its
 * outputs (score rows, next-token log-probs, new keys/values, hidden states, scalar head), so the
 * native runtime runs it for `--graph contrib` (lm/native/runtime.ts; test/lm-graph-flavour.test.ts
 * compares the two). The GroupQueryAttention and quantized variants are measured by the kernels
 * bench and checked by test/models-contrib-step.test.ts; wiring GroupQueryAttention in would need
 * per-row cache lengths and a fallback for batched multi-token appends, which onnxruntime's kernel
 * refuses.
 */
import { Graph, type Value } from '../engine/graph.ts';
import { Ops } from '../engine/ops.ts';
import { ContribOps } from '../engine/contrib-ops.ts';
import { quantizeBlockwise, quantizedInitializers } from '../engine/block-quantize.ts';
import { AlignkitError } from '../errors.ts';
import type { ModelConfig } from './config.ts';
import type { Weights } from './weights.ts';
import { ropeTables } from './rope.ts';
import { attentionWindows, layerAttention } from './architectures/registry.ts';
import { addStepOutputs, initializerSource, stepNames } from './inference-graphs.ts';

export const contribStepNames = {
  ...stepNames,
  /** int32 [B]: each row's cache length after the step − 1 */
  seqlensK: 'seqlens_k',
  /** int32 scalar: the longest row's cache length after the step */
  totalLength: 'total_sequence_length',
  presentK: (l: number) => `present_key_${l}`,
  presentV: (l: number) => `present_value_${l}`,
};

export interface ContribStepOptions {
  /**
   * `standard` (default): opset-23 Attention over the standard step's cache layout and bias
   * [B, 1, T, C+T] — the faster of the two on onnxruntime-node (see the report of issue 18);
   * `group-query`: GroupQueryAttention over per-row lengths (`seqlens_k`, `total_sequence_length`)
   * and a bias [B, 1, T, total], whose present outputs can be bound to the past buffers.
   */
  attention?: 'standard' | 'group-query';
  /** weight-only quantization of every linear layer but the LM head (block 32) */
  quantize?: 4 | 8;
}

/** The families whose layer the contrib step writes: the llama layer, and Qwen3's with per-head q/k norms. */
const CONTRIB_FAMILIES = ['llama', 'qwen3'];

/** Why the contrib step cannot express this model (null: it can). */
export function contribStepUnsupported(cfg: ModelConfig, quantizedMatrices = 0): string | null {
  if (quantizedMatrices > 0) return 'the contrib graph has no quantized matmuls yet';
  if (!CONTRIB_FAMILIES.includes(cfg.family))
    return `the contrib graph covers the llama and qwen3 families, not ${cfg.architecture}`;
  const windows = attentionWindows(cfg);
  if (windows.full && windows.window !== null)
    return 'the contrib graph takes one attention bias, and this model mixes windowed and full-attention layers';
  const ropes = new Set(layerAttention(cfg).map((l) => JSON.stringify(l.rope)));
  if (ropes.size > 1) return 'the contrib graph takes one RoPE table, and this model has several';
  return null;
}

/**
 * Inputs: `input_ids`/`position_ids` [B, T] (int64), `attn_bias` (0 or −1e9, built like the
 * standard step's: holes, padding and the sliding window), per layer `past_key_l`/`past_value_l`
 * [B, Hkv, C, hd], `next_rows` [M]; with group-query attention also `seqlens_k` and
 * `total_sequence_length` (see contribStepNames). Outputs: `next_logprobs` [M, V], `new_kv` as in
 * the standard step, and with group-query attention per layer the kernel's
 * `present_key_l`/`present_value_l` (bind them to the past buffers to update those in place).
 */
export function buildContribStepGraph(cfg: ModelConfig, weights: Weights, options: ContribStepOptions = {}): Graph {
  const unsupported = contribStepUnsupported(cfg);
  if (unsupported) throw new AlignkitError('capability', unsupported);
  if (options.attention === 'group-query' && cfg.headDim % 8 !== 0)
    throw new AlignkitError('capability', `GroupQueryAttention needs a head size divisible by 8, not ${cfg.headDim}`);
  const g = new Graph('contrib step');
  const o = new Ops(g);
  const c = new ContribOps(g);
  const p = initializerSource(g, weights);
  const { numHeads: H, numKvHeads: Hkv, headDim: hd, hiddenSize: D, intermediateSize: F } = cfg;
  const names = contribStepNames;
  const ids = g.input(names.ids, 'int64', ['B', 'T']);
  const positions = g.input(names.positions, 'int64', ['B', 'T']);
  const groupQuery = options.attention === 'group-query';
  const lengths = groupQuery
    ? {
        seqlensK: g.input(names.seqlensK, 'int32', ['B']),
        totalSequenceLength: g.input(names.totalLength, 'int32', []),
      }
    : null;
  // the runtime feeds the bias of the kind of layer the model has (one kind: see contribStepUnsupported)
  const biasName = attentionWindows(cfg).full ? names.bias : names.windowBias;
  const attentionBias = g.input(biasName, 'float32', ['B', 1, 'T', 'S']);
  const layer0 = layerAttention(cfg)[0];

  /** x · [W1ᵀ | W2ᵀ | …] for HF [out, in] weights stacked along `out` (one matmul). */
  const stackedLinear = (x: Value, parts: readonly string[], label: string): Value => {
    const tensors = parts.map((name) => weights.get(name)!);
    const rows = tensors.reduce((n, t) => n + t.shape[0], 0);
    const stacked = concat(tensors.map((t) => t.data));
    if (options.quantize)
      return c.matMulNBits(x, quantizedInitializers(g, label, quantizeBlockwise(stacked, rows, D, options.quantize)));
    const transposed = new Float32Array(rows * D);
    for (let r = 0; r < rows; r++) for (let k = 0; k < D; k++) transposed[k * rows + r] = stacked[r * D + k];
    return o.matmul(x, g.tensor(label, 'float32', [D, rows], transposed));
  };
  const linear = (x: Value, name: string): Value => {
    if (!options.quantize) return o.matmul(x, p.linear(name));
    const w = weights.get(name)!;
    return c.matMulNBits(
      x,
      quantizedInitializers(g, name, quantizeBlockwise(w.data, w.shape[0], w.shape[1], options.quantize)),
    );
  };

  // RoPE in GroupQueryAttention needs a head size divisible by 16; otherwise one kernel each for q and k
  const inKernelRope = groupQuery && hd % 16 === 0;
  const tables = ropeTables(cfg.maxPositions, hd, layer0.rope!, 'half');
  const cos = g.tensor('rope_cos', 'float32', [cfg.maxPositions, hd / 2], tables.cos);
  const sin = g.tensor('rope_sin', 'float32', [cfg.maxPositions, hd / 2], tables.sin);
  const qkvSizes = o.ints([H * hd, Hkv * hd, Hkv * hd]);
  const mlpSizes = o.ints([F, F]);

  let residual = o.gather(p.tensor('model.embed_tokens.weight'), ids);
  const layerHidden = new Map<number, Value>([[0, residual]]);
  let pending: Value | null = null; // the block output not yet added to the residual stream
  /** RMSNorm of the residual stream; `completed`: the layer whose output this norm adds in (its hidden state) */
  const norm = (weight: string, completed?: number) => {
    if (!pending) return c.simplifiedLayerNorm(residual, p.tensor(weight), cfg.normEps);
    const fused = c.skipSimplifiedLayerNorm(pending, residual, p.tensor(weight), cfg.normEps);
    residual = fused.sum;
    pending = null;
    if (completed !== undefined) layerHidden.set(completed, residual);
    return fused.normed;
  };
  /** Qwen3's RMSNorm of each query/key head [B, T, heads·hd] over its hd values */
  const perHeadNorm = (x: Value, weight: string) =>
    o.reshape(c.simplifiedLayerNorm(o.reshape(x, [0, 0, -1, hd]), p.tensor(weight), cfg.normEps), [0, 0, -1]);
  const qkNorm = cfg.family === 'qwen3';
  const newKv: { k: Value; v: Value }[] = [];
  for (let l = 0; l < cfg.numLayers; l++) {
    const pre = `model.layers.${l}.`;
    const pastKey = g.input(names.pastK(l), 'float32', ['B', Hkv, 'C', hd]);
    const pastValue = g.input(names.pastV(l), 'float32', ['B', Hkv, 'C', hd]);
    const h = norm(pre + 'input_layernorm.weight', l);
    const projections = ['q_proj', 'k_proj', 'v_proj'].map((n) => `${pre}self_attn.${n}.weight`);
    let qkv = stackedLinear(h, projections, `${pre}self_attn.qkv`);
    if (cfg.attentionBias) {
      const biases = ['q_proj', 'k_proj', 'v_proj'].map((n) => weights.get(`${pre}self_attn.${n}.bias`)!.data);
      qkv = o.add(qkv, g.tensor(`${pre}self_attn.qkv_bias`, 'float32', [(H + 2 * Hkv) * hd], concat(biases)));
    }
    let [q, k, v] = o.split(qkv, qkvSizes, 2, [
      ['B', 'T', H * hd],
      ['B', 'T', Hkv * hd],
      ['B', 'T', Hkv * hd],
    ]);
    if (qkNorm) {
      q = perHeadNorm(q, pre + 'self_attn.q_norm.weight');
      k = perHeadNorm(k, pre + 'self_attn.k_norm.weight');
    }
    if (!inKernelRope) {
      q = c.rotaryEmbedding(q, positions, cos, sin, H);
      k = c.rotaryEmbedding(k, positions, cos, sin, Hkv);
    }
    let attended: Value;
    if (lengths) {
      const attention = c.groupQueryAttention(
        {
          ...{ query: q, key: k, value: v, pastKey, pastValue, attentionBias },
          ...lengths,
          ...(inKernelRope ? { cos, sin, positionIds: positions } : {}),
        },
        // no local_window_size: the kernel's window counts cache columns, and holes are columns
        // too; the caller's bias carries the sliding window, as the standard step's does
        { numHeads: H, numKvHeads: Hkv, rotary: inKernelRope ? 'halves' : undefined },
      );
      g.output(attention.presentKey, names.presentK(l));
      g.output(attention.presentValue, names.presentV(l));
      attended = attention.output;
    } else
      attended = o.attention(q, k, v, attentionBias, pastKey, pastValue, H, Hkv, {
        scale: layer0.scale === 1 / Math.sqrt(hd) ? undefined : layer0.scale,
      });
    // with RoPE in the kernel the rotated keys exist only in the present cache: rotate a copy for new_kv
    newKv.push({ k: inKernelRope ? c.rotaryEmbedding(k, positions, cos, sin, Hkv) : k, v });
    const oBias = pre + 'self_attn.o_proj.bias';
    const out = linear(attended, pre + 'self_attn.o_proj.weight');
    pending = p.has(oBias) ? o.add(out, p.tensor(oBias)) : out;

    const h2 = norm(pre + 'post_attention_layernorm.weight');
    const gateUp = stackedLinear(h2, [pre + 'mlp.gate_proj.weight', pre + 'mlp.up_proj.weight'], `${pre}mlp.gate_up`);
    const [gate, up] = o.split(gateUp, mlpSizes, 2, [
      ['B', 'T', F],
      ['B', 'T', F],
    ]);
    pending = linear(o.mul(c.quickGelu(gate, 1), up), pre + 'mlp.down_proj.weight');
  }
  const hidden = norm('model.norm.weight', cfg.numLayers);
  addStepOutputs(g, cfg, weights, p, { hidden, newKv, layerHidden });
  return g;
}

function concat(parts: readonly Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((n, a) => n + a.length, 0));
  let at = 0;
  for (const a of parts) {
    out.set(a, at);
    at += a.length;
  }
  return out;
}
