/**
 * A deliberately plain float64 forward pass of the RoPE decoder families, one token at a time
 * with a KV cache, written from the published equations (HF's modeling_*.py) rather than from
 * alignkit's graphs: Llama 3 / Qwen2 / Qwen3 / Mistral / Phi-3 / Gemma 2 / Gemma 3. Every
 * family difference is a field of ReferenceFeatures, which tests fill from the config.json
 * fields as the published code reads them. Slow: for tiny models only.
 */
import type { ModelConfig } from '../../src/models/config.ts';
import type { Weights } from '../../src/models/weights.ts';

export interface ReferenceFeatures {
  hidden: number;
  layers: number;
  heads: number;
  kvHeads: number;
  headDim: number;
  eps: number;
  /** Gemma: RMSNorm output · (1 + w) */
  normPlusOne: boolean;
  /** Gemma: embeddings · √hidden */
  embedScale: number;
  /** Qwen3 / Gemma 3: RMSNorm over each q and k head before RoPE */
  qkNorm: boolean;
  /** Gemma: norms after attention and after the MLP, MLP norm named pre_feedforward_layernorm */
  sandwichNorms: boolean;
  /** Phi-3: qkv_proj and gate_up_proj */
  fused: boolean;
  activation: 'silu' | 'gelu_tanh';
  attnScale: number;
  attnSoftcap: number | null;
  finalSoftcap: number | null;
  /** keys visible to a query at position p: p − window + 1 … p */
  window: (layer: number) => number | null;
  /** inverse frequencies [headDim/2] and the cos/sin multiplier of each layer */
  rope: (layer: number) => { inverseFrequencies: number[]; attentionFactor: number };
  tied: boolean;
}

const gelu = (x: number) => 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3)));
const silu = (x: number) => x / (1 + Math.exp(-x));
const cap = (x: number, c: number | null) => (c === null ? x : c * Math.tanh(x / c));

export class ReferenceDecoder {
  private readonly keys: Float64Array[][] = [];
  private readonly values: Float64Array[][] = [];
  private position = 0;

  constructor(
    private readonly f: ReferenceFeatures,
    private readonly weights: Weights,
  ) {
    for (let l = 0; l < f.layers; l++) {
      this.keys.push([]);
      this.values.push([]);
    }
  }

  private w(name: string): Float32Array {
    const t = this.weights.get(name);
    if (!t) throw new Error(`missing tensor ${name}`);
    return t.data;
  }

  /** y = W x (+ b) for W [rows, cols], rows from `firstRow` on (slices of fused matrices). */
  private linear(name: string, x: Float64Array, rows?: [number, number]): Float64Array {
    const w = this.w(name);
    const cols = x.length;
    const [from, to] = rows ?? [0, w.length / cols];
    const bias = this.weights.get(name.replace(/weight$/, 'bias'))?.data;
    const y = new Float64Array(to - from);
    for (let r = from; r < to; r++) {
      let s = bias ? bias[r] : 0;
      for (let c = 0; c < cols; c++) s += w[r * cols + c] * x[c];
      y[r - from] = s;
    }
    return y;
  }

  private rmsNorm(x: Float64Array, name: string): Float64Array {
    const g = this.w(name);
    let ss = 0;
    for (const v of x) ss += v * v;
    const scale = 1 / Math.sqrt(ss / x.length + this.f.eps);
    return x.map((v, i) => v * scale * (this.f.normPlusOne ? 1 + g[i] : g[i]));
  }

  private perHead(x: Float64Array, heads: number, fn: (head: Float64Array) => Float64Array): Float64Array {
    const hd = this.f.headDim;
    const out = new Float64Array(x.length);
    for (let h = 0; h < heads; h++) out.set(fn(x.subarray(h * hd, (h + 1) * hd)), h * hd);
    return out;
  }

  /** rotate_half RoPE: (x1, x2) → (x1·cos − x2·sin, x2·cos + x1·sin), cos/sin times the attention factor. */
  private rope(x: Float64Array, layer: number): Float64Array {
    const { inverseFrequencies, attentionFactor } = this.f.rope(layer);
    const half = this.f.headDim / 2;
    const out = new Float64Array(x.length);
    for (let i = 0; i < half; i++) {
      const angle = this.position * inverseFrequencies[i];
      const cos = Math.cos(angle) * attentionFactor;
      const sin = Math.sin(angle) * attentionFactor;
      out[i] = x[i] * cos - x[i + half] * sin;
      out[i + half] = x[i + half] * cos + x[i] * sin;
    }
    return out;
  }

  /** Feeds one token; returns the next-token logits. */
  step(token: number): Float64Array {
    const { hidden: d, heads: H, kvHeads: KV, headDim: hd, fused } = this.f;
    const embed = this.w('model.embed_tokens.weight');
    let x = Float64Array.from(embed.subarray(token * d, (token + 1) * d), (v) => v * this.f.embedScale);
    for (let l = 0; l < this.f.layers; l++) {
      const p = `model.layers.${l}.`;
      const h = this.rmsNorm(x, `${p}input_layernorm.weight`);
      let q: Float64Array, k: Float64Array, v: Float64Array;
      if (fused) {
        const qkv = `${p}self_attn.qkv_proj.weight`;
        q = this.linear(qkv, h, [0, H * hd]);
        k = this.linear(qkv, h, [H * hd, (H + KV) * hd]);
        v = this.linear(qkv, h, [(H + KV) * hd, (H + 2 * KV) * hd]);
      } else {
        q = this.linear(`${p}self_attn.q_proj.weight`, h);
        k = this.linear(`${p}self_attn.k_proj.weight`, h);
        v = this.linear(`${p}self_attn.v_proj.weight`, h);
      }
      if (this.f.qkNorm) {
        q = this.perHead(q, H, (head) => this.rmsNorm(head, `${p}self_attn.q_norm.weight`));
        k = this.perHead(k, KV, (head) => this.rmsNorm(head, `${p}self_attn.k_norm.weight`));
      }
      q = this.perHead(q, H, (head) => this.rope(head, l));
      k = this.perHead(k, KV, (head) => this.rope(head, l));
      this.keys[l].push(k);
      this.values[l].push(v);
      const window = this.f.window(l);
      const att = new Float64Array(H * hd);
      for (let head = 0; head < H; head++) {
        const kvHead = Math.floor(head / (H / KV));
        const scores = this.keys[l].map((key, t) => {
          let s = 0;
          for (let i = 0; i < hd; i++) s += q[head * hd + i] * key[kvHead * hd + i];
          const capped = cap(s * this.f.attnScale, this.f.attnSoftcap);
          return window !== null && this.position - t >= window ? -Infinity : capped;
        });
        const max = Math.max(...scores);
        const e = scores.map((s) => Math.exp(s - max));
        const sum = e.reduce((a, b) => a + b, 0);
        e.forEach((weight, t) => {
          for (let i = 0; i < hd; i++) att[head * hd + i] += (weight / sum) * this.values[l][t][kvHead * hd + i];
        });
      }
      let o = this.linear(`${p}self_attn.o_proj.weight`, att);
      if (this.f.sandwichNorms) o = this.rmsNorm(o, `${p}post_attention_layernorm.weight`);
      x = x.map((xi, i) => xi + o[i]);
      const h2 = this.rmsNorm(
        x,
        this.f.sandwichNorms ? `${p}pre_feedforward_layernorm.weight` : `${p}post_attention_layernorm.weight`,
      );
      const act = this.f.activation === 'silu' ? silu : gelu;
      let gate: Float64Array, up: Float64Array;
      if (fused) {
        const ff = this.w(`${p}mlp.down_proj.weight`).length / d;
        gate = this.linear(`${p}mlp.gate_up_proj.weight`, h2, [0, ff]);
        up = this.linear(`${p}mlp.gate_up_proj.weight`, h2, [ff, 2 * ff]);
      } else {
        gate = this.linear(`${p}mlp.gate_proj.weight`, h2);
        up = this.linear(`${p}mlp.up_proj.weight`, h2);
      }
      let down = this.linear(
        `${p}mlp.down_proj.weight`,
        gate.map((g, i) => act(g) * up[i]),
      );
      if (this.f.sandwichNorms) down = this.rmsNorm(down, `${p}post_feedforward_layernorm.weight`);
      x = x.map((xi, i) => xi + down[i]);
    }
    this.position++;
    const final = this.rmsNorm(x, 'model.norm.weight');
    const logits = this.linear(this.f.tied ? 'model.embed_tokens.weight' : 'lm_head.weight', final);
    return logits.map((z) => cap(z, this.f.finalSoftcap));
  }
}

export function logSoftmax64(logits: Float64Array): Float64Array {
  const max = Math.max(...logits);
  let sum = 0;
  for (const z of logits) sum += Math.exp(z - max);
  const lse = max + Math.log(sum);
  return logits.map((z) => z - lse);
}

/**
 * The reference for a plain llama-family model (Llama 1/2, Qwen2, Mistral: no RoPE scaling), with
 * its features read from alignkit's parsed config — for tests of loaders and checkpoints rather
 * than of config parsing.
 */
export function plainLlamaReference(cfg: ModelConfig, weights: Weights): ReferenceDecoder {
  if (cfg.family !== 'llama' || cfg.ropeScaling)
    throw new Error('plainLlamaReference is for llama without RoPE scaling');
  const inverseFrequencies = Array.from(
    { length: cfg.headDim / 2 },
    (_, i) => cfg.ropeTheta ** ((-2 * i) / cfg.headDim),
  );
  return new ReferenceDecoder(
    {
      hidden: cfg.hiddenSize,
      layers: cfg.numLayers,
      heads: cfg.numHeads,
      kvHeads: cfg.numKvHeads,
      headDim: cfg.headDim,
      eps: cfg.normEps,
      normPlusOne: false,
      embedScale: 1,
      qkNorm: false,
      sandwichNorms: false,
      fused: false,
      activation: 'silu',
      attnScale: 1 / Math.sqrt(cfg.headDim),
      attnSoftcap: null,
      finalSoftcap: null,
      window: () => cfg.slidingWindow,
      rope: () => ({ inverseFrequencies, attentionFactor: 1 }),
      tied: cfg.tieWordEmbeddings,
    },
    weights,
  );
}

export function argmax(values: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i] > values[best]) best = i;
  return best;
}
