import type { Value } from '../engine/graph.ts';
import type { Ops } from '../engine/ops.ts';
import type { ModelConfig } from './config.ts';
import type { ParameterSource } from './parameters.ts';
import type { BodyInputs, BodyOptions, BodyOutputs } from './transformer.ts';
import { attention } from './attention.ts';

/** GPT-2: learned positions, LayerNorm, fused c_attn (Conv1D layout [in, out]), gelu_new MLP. */
export function buildGpt2Body(o: Ops, cfg: ModelConfig, p: ParameterSource, io: BodyInputs, options: BodyOptions): BodyOutputs {
  const { numHeads: H, headDim: hd, hiddenSize: D } = cfg;
  const prefix = p.has('transformer.wte.weight') ? 'transformer.' : '';
  const t = (name: string) => p.tensor(prefix + name);
  const wanted = new Set(options.hiddenLayers ?? []);
  const layerHidden = new Map<number, Value>();
  const present: { k: Value; v: Value }[] = [];
  let x = o.add(o.gather(t('wte.weight'), io.ids), o.gather(t('wpe.weight'), io.positions));
  if (wanted.has(0)) layerHidden.set(0, x);
  const heads = (v: Value) => o.transpose(o.reshape(v, [0, 0, H, hd]), [0, 2, 1, 3]);
  for (let l = 0; l < cfg.numLayers; l++) {
    const pre = `h.${l}.`;
    const h = o.layerNorm(x, t(pre + 'ln_1.weight'), t(pre + 'ln_1.bias'), cfg.normEps);
    const qkv = o.add(o.matmul(h, t(pre + 'attn.c_attn.weight')), t(pre + 'attn.c_attn.bias'));
    const q = heads(o.slice(qkv, [0], [D], [2]));
    const k = heads(o.slice(qkv, [D], [2 * D], [2]));
    const v = heads(o.slice(qkv, [2 * D], [3 * D], [2]));
    const att = attention(o, { q, k, v, pastK: io.past?.[l].k, pastV: io.past?.[l].v, bias: io.bias, numHeads: H, numKvHeads: H, headDim: hd });
    present.push({ k: att.keys, v: att.values });
    x = o.add(x, o.add(o.matmul(att.out, t(pre + 'attn.c_proj.weight')), t(pre + 'attn.c_proj.bias')));
    const h2 = o.layerNorm(x, t(pre + 'ln_2.weight'), t(pre + 'ln_2.bias'), cfg.normEps);
    const up = o.geluTanh(o.add(o.matmul(h2, t(pre + 'mlp.c_fc.weight')), t(pre + 'mlp.c_fc.bias')));
    x = o.add(x, o.add(o.matmul(up, t(pre + 'mlp.c_proj.weight')), t(pre + 'mlp.c_proj.bias')));
    if (wanted.has(l + 1)) layerHidden.set(l + 1, x);
  }
  return { hidden: o.layerNorm(x, t('ln_f.weight'), t('ln_f.bias'), cfg.normEps), present, layerHidden };
}
