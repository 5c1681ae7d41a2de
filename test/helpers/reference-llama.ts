/**
 * A deliberately plain llama-family forward pass (HF layout, rotate-half RoPE, GQA, optional
 * q/k/v biases, Mistral's sliding window), one token at a time in float64 with a KV cache. An independent computation to
 * check weight loaders and the engine against; slow, for tiny models only.
 */
import type { ModelConfig } from '../../src/models/config.ts';
import type { Weights } from '../../src/models/weights.ts';

export class ReferenceLlama {
  private readonly keys: Float64Array[][] = [];
  private readonly values: Float64Array[][] = [];
  private position = 0;

  constructor(
    private readonly cfg: ModelConfig,
    private readonly weights: Weights,
  ) {
    if (cfg.family !== 'llama') throw new Error('ReferenceLlama is for the llama family');
    for (let l = 0; l < cfg.numLayers; l++) {
      this.keys.push([]);
      this.values.push([]);
    }
  }

  private w(name: string): Float32Array {
    const t = this.weights.get(name);
    if (!t) throw new Error(`missing tensor ${name}`);
    return t.data;
  }

  private has(name: string): boolean {
    return this.weights.has(name);
  }

  /** y = W x (+ b), W [rows, cols] row-major. */
  private linear(name: string, x: Float64Array, biasName?: string): Float64Array {
    const w = this.w(name);
    const cols = x.length;
    const rows = w.length / cols;
    const bias = biasName && this.has(biasName) ? this.w(biasName) : null;
    const y = new Float64Array(rows);
    for (let r = 0; r < rows; r++) {
      let s = bias ? bias[r] : 0;
      const off = r * cols;
      for (let c = 0; c < cols; c++) s += w[off + c] * x[c];
      y[r] = s;
    }
    return y;
  }

  private rmsNorm(x: Float64Array, name: string): Float64Array {
    const g = this.w(name);
    let ss = 0;
    for (const v of x) ss += v * v;
    const scale = 1 / Math.sqrt(ss / x.length + this.cfg.normEps);
    return x.map((v, i) => v * scale * g[i]);
  }

  private rope(x: Float64Array, numHeads: number): void {
    const hd = this.cfg.headDim;
    const half = hd / 2;
    for (let h = 0; h < numHeads; h++) {
      for (let i = 0; i < half; i++) {
        const angle = this.position * Math.pow(this.cfg.ropeTheta, (-2 * i) / hd);
        const cos = Math.cos(angle);
        const sin = Math.sin(angle);
        const a = x[h * hd + i];
        const b = x[h * hd + i + half];
        x[h * hd + i] = a * cos - b * sin;
        x[h * hd + i + half] = a * sin + b * cos;
      }
    }
  }

  /** Feeds one token; returns the next-token logits. */
  step(token: number): Float64Array {
    const { hiddenSize: d, numHeads: H, numKvHeads: KV, headDim: hd } = this.cfg;
    const embed = this.w('model.embed_tokens.weight');
    let x = Float64Array.from(embed.subarray(token * d, (token + 1) * d));
    for (let l = 0; l < this.cfg.numLayers; l++) {
      const p = `model.layers.${l}.`;
      const h = this.rmsNorm(x, `${p}input_layernorm.weight`);
      const q = this.linear(`${p}self_attn.q_proj.weight`, h, `${p}self_attn.q_proj.bias`);
      const k = this.linear(`${p}self_attn.k_proj.weight`, h, `${p}self_attn.k_proj.bias`);
      const v = this.linear(`${p}self_attn.v_proj.weight`, h, `${p}self_attn.v_proj.bias`);
      this.rope(q, H);
      this.rope(k, KV);
      this.keys[l].push(k);
      this.values[l].push(v);
      const att = new Float64Array(H * hd);
      const steps = this.keys[l].length;
      for (let head = 0; head < H; head++) {
        const kvHead = Math.floor(head / (H / KV));
        const scores = new Float64Array(steps);
        const window = this.cfg.slidingWindow;
        for (let t = 0; t < steps; t++) {
          // a query at position p sees the keys at p − window + 1 … p
          if (window !== null && this.position - t >= window) {
            scores[t] = -Infinity;
            continue;
          }
          let s = 0;
          for (let i = 0; i < hd; i++) s += q[head * hd + i] * this.keys[l][t][kvHead * hd + i];
          scores[t] = s / Math.sqrt(hd);
        }
        const max = Math.max(...scores);
        let sum = 0;
        for (let t = 0; t < steps; t++) sum += scores[t] = Math.exp(scores[t] - max);
        for (let t = 0; t < steps; t++) {
          for (let i = 0; i < hd; i++) att[head * hd + i] += (scores[t] / sum) * this.values[l][t][kvHead * hd + i];
        }
      }
      const o = this.linear(`${p}self_attn.o_proj.weight`, att, `${p}self_attn.o_proj.bias`);
      x = x.map((xi, i) => xi + o[i]);
      const h2 = this.rmsNorm(x, `${p}post_attention_layernorm.weight`);
      const gate = this.linear(`${p}mlp.gate_proj.weight`, h2);
      const up = this.linear(`${p}mlp.up_proj.weight`, h2);
      const act = gate.map((g, i) => (g / (1 + Math.exp(-g))) * up[i]);
      const down = this.linear(`${p}mlp.down_proj.weight`, act);
      x = x.map((xi, i) => xi + down[i]);
    }
    this.position++;
    const final = this.rmsNorm(x, 'model.norm.weight');
    return this.linear(this.cfg.tieWordEmbeddings ? 'model.embed_tokens.weight' : 'lm_head.weight', final);
  }
}

export function argmax(values: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i] > values[best]) best = i;
  return best;
}
