import type { Value } from '../engine/graph.ts';
import type { Ops } from '../engine/ops.ts';
import type { ModelConfig } from './config.ts';
import type { ParameterSource } from './parameters.ts';
import type { BodyInputs, BodyOptions, BodyOutputs } from './transformer.ts';
import { attention } from './attention.ts';

/** GPT-2: learned positions, LayerNorm, fused c_attn (Conv1D layout [in, out]), gelu_new MLP. */
export function buildGpt2Body(
  o: Ops,
  cfg: ModelConfig,
  p: ParameterSource,
  io: BodyInputs,
  options: BodyOptions,
): BodyOutputs {
  const { numHeads: H, headDim: hd, hiddenSize: D } = cfg;
  const prefix = p.has('transformer.wte.weight') ? 'transformer.' : '';
  const t = (name: string) => p.tensor(prefix + name);
  const wanted = new Set(options.hiddenLayers ?? []);
  const layerHidden = new Map<number, Value>();
  const newKv: { k: Value; v: Value }[] = [];
  let x = o.add(o.gather(t('wte.weight'), io.ids), o.gather(t('wpe.weight'), io.positions));
  if (wanted.has(0)) layerHidden.set(0, x);
  const heads = (v: Value) => o.transpose(o.reshape(v, [0, 0, H, hd]), [0, 2, 1, 3]);
  for (let l = 0; l < cfg.numLayers; l++) {
    const pre = `h.${l}.`;
    const h = o.layerNorm(x, t(pre + 'ln_1.weight'), t(pre + 'ln_1.bias'), cfg.normEps);
    const qkv = o.add(o.matmul(h, t(pre + 'attn.c_attn.weight')), t(pre + 'attn.c_attn.bias'));
    const [q, k, v] = [0, 1, 2].map((i) => o.slice(qkv, [i * D], [(i + 1) * D], [2]));
    let out: Value;
    if (io.past) {
      out = o.attention(q, k, v, io.bias, io.past[l].k, io.past[l].v, H, H);
      newKv.push({ k, v });
    } else {
      out = attention(o, {
        q: heads(q),
        k: heads(k),
        v: heads(v),
        bias: io.bias,
        numHeads: H,
        numKvHeads: H,
        headDim: hd,
      });
    }
    x = o.add(x, o.add(o.matmul(out, t(pre + 'attn.c_proj.weight')), t(pre + 'attn.c_proj.bias')));
    const h2 = o.layerNorm(x, t(pre + 'ln_2.weight'), t(pre + 'ln_2.bias'), cfg.normEps);
    const up = o.geluTanh(o.add(o.matmul(h2, t(pre + 'mlp.c_fc.weight')), t(pre + 'mlp.c_fc.bias')));
    x = o.add(x, o.add(o.matmul(up, t(pre + 'mlp.c_proj.weight')), t(pre + 'mlp.c_proj.bias')));
    if (wanted.has(l + 1)) layerHidden.set(l + 1, x);
  }
  return { hidden: o.layerNorm(x, t('ln_f.weight'), t('ln_f.bias'), cfg.normEps), newKv, layerHidden };
}
