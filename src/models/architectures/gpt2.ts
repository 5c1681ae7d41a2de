/**
 * GPT-2: learned positions, LayerNorm, fused c_attn kept fused (Conv1D layout [in, out]),
 * gelu_new MLP, tied embeddings. Checkpoints name tensors with `transformer.` (save_pretrained)
 * or without (the original hub files); alignkit keeps the prefixed names in memory.
 */
import type { Value } from '../../engine/graph.ts';
import type { ModelConfig } from '../config.ts';
import { attention } from '../attention.ts';
import { cannotExpress } from './decoder-config.ts';
import type { ArchitectureSpec, InitRule } from './spec.ts';

const PREFIX = 'transformer.';

/** 'transformer.' or '' — whichever naming a GPT-2 checkpoint uses. */
export function gpt2PrefixOf(names: Iterable<string>): string {
  for (const name of names) if (name.startsWith(PREFIX)) return PREFIX;
  return '';
}

function weightShapes(cfg: ModelConfig, p: string): Map<string, number[]> {
  const shapes = new Map<string, number[]>();
  const d = cfg.hiddenSize;
  const ff = cfg.intermediateSize;
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
  if (!cfg.tieWordEmbeddings) shapes.set('lm_head.weight', [cfg.vocabSize, d]);
  return shapes;
}

export const gpt2: ArchitectureSpec = {
  architecture: 'GPT2LMHeadModel',
  modelType: 'gpt2',
  family: 'gpt2',
  sequenceClassifier: 'GPT2ForSequenceClassification',
  parseConfig(f) {
    const hiddenSize = f.positiveInt('n_embd');
    const numHeads = f.positiveInt('n_head');
    if (hiddenSize % numHeads !== 0) throw f.error('n_embd', `${hiddenSize} is not divisible by n_head (${numHeads})`);
    const act = f.string('activation_function', 'gelu_new');
    if (act !== 'gelu_new' && act !== 'gelu_pytorch_tanh') {
      throw f.error('activation_function', `unsupported activation ${JSON.stringify(act)} (expected "gelu_new")`);
    }
    if (f.boolean('scale_attn_by_inverse_layer_idx', false))
      throw f.error('scale_attn_by_inverse_layer_idx', 'not supported');
    if (!f.boolean('scale_attn_weights', true))
      throw f.error('scale_attn_weights', 'unscaled attention is not supported');
    return {
      family: 'gpt2',
      architecture: 'GPT2LMHeadModel',
      vocabSize: f.positiveInt('vocab_size'),
      hiddenSize,
      numLayers: f.positiveInt('n_layer'),
      numHeads,
      numKvHeads: numHeads,
      headDim: hiddenSize / numHeads,
      intermediateSize: f.has('n_inner') ? f.positiveInt('n_inner') : 4 * hiddenSize,
      maxPositions: f.positiveInt('n_positions', f.has('n_ctx') ? f.positiveInt('n_ctx') : undefined),
      normEps: f.positiveNumber('layer_norm_epsilon', 1e-5),
      ropeTheta: 10000,
      attentionBias: true,
      tieWordEmbeddings: f.boolean('tie_word_embeddings', true),
      slidingWindow: null,
      bosTokenId: f.tokenId('bos_token_id'),
      eosTokenId: f.tokenIds('eos_token_id'),
      torchDtype: f.has('torch_dtype') ? f.string('torch_dtype', 'float32') : f.string('dtype', 'float32'),
    };
  },
  toHfConfig(cfg) {
    if (cfg.numKvHeads !== cfg.numHeads) throw cannotExpress(cfg, 'numKvHeads', 'grouped-query attention');
    if (cfg.headDim * cfg.numHeads !== cfg.hiddenSize)
      throw cannotExpress(cfg, 'headDim', 'a head size other than n_embd / n_head');
    if (!cfg.attentionBias) throw cannotExpress(cfg, 'attentionBias', 'attention without biases');
    if (cfg.slidingWindow !== null) throw cannotExpress(cfg, 'slidingWindow', 'sliding-window attention');
    return {
      architectures: [cfg.architecture],
      model_type: 'gpt2',
      vocab_size: cfg.vocabSize,
      tie_word_embeddings: cfg.tieWordEmbeddings,
      bos_token_id: cfg.bosTokenId,
      eos_token_id: cfg.eosTokenId,
      torch_dtype: cfg.torchDtype,
      n_embd: cfg.hiddenSize,
      n_layer: cfg.numLayers,
      n_head: cfg.numHeads,
      n_inner: cfg.intermediateSize,
      n_positions: cfg.maxPositions,
      n_ctx: cfg.maxPositions,
      layer_norm_epsilon: cfg.normEps,
      activation_function: 'gelu_new',
      scale_attn_weights: true,
      use_cache: true,
    };
  },
  weightShapes: (cfg, storedNames) => weightShapes(cfg, storedNames ? gpt2PrefixOf(storedNames) : PREFIX),
  attention: (cfg) =>
    Array.from({ length: cfg.numLayers }, () => ({
      window: null,
      scale: 1 / Math.sqrt(cfg.headDim),
      softcap: null,
      rope: null,
    })),
  buildBody(o, cfg, p, io, options) {
    const { numHeads: H, headDim: hd, hiddenSize: D } = cfg;
    const prefix = p.has('transformer.wte.weight') ? 'transformer.' : '';
    const t = (name: string) => p.tensor(prefix + name);
    const wanted = new Set(options.hiddenLayers ?? []);
    const layerHidden = new Map<number, Value>();
    const newKv: { k: Value; v: Value }[] = [];
    const bias = io.bias!; // every GPT-2 layer attends fully
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
        out = o.attention(q, k, v, bias, io.past[l].k, io.past[l].v, H, H);
        newKv.push({ k, v });
      } else {
        out = attention(o, {
          q: heads(q),
          k: heads(k),
          v: heads(v),
          bias,
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
  },
  lmHead(cfg, p) {
    const embeddings = p.has('transformer.wte.weight') ? 'transformer.wte.weight' : 'wte.weight';
    return { weight: cfg.tieWordEmbeddings || !p.has('lm_head.weight') ? embeddings : 'lm_head.weight', softcap: null };
  },
  loraTargets: ['c_attn'],
  isConv1d: (name) => /\.(c_attn|c_proj|c_fc)\.weight$/.test(name),
  initRule(name): InitRule {
    if (/(ln_1|ln_2|ln_f)\.weight$/.test(name)) return 'ones';
    if (/(ln_1|ln_2|ln_f)\.bias$/.test(name)) return 'zeros';
    return /\.bias$/.test(name) ? 'bias' : 'normal';
  },
  describe: (cfg) => [`${cfg.maxPositions} positions`],
};
