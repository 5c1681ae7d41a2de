/**
 * Speed and memory figures of the native engine (printed by `alignkit bench`; never asserted).
 */
import { NativeModel } from './native-model.ts';
import { loadNativeModel } from '../load.ts';
import { randomInitWeights } from '../../models/random-init.ts';
import type { ModelConfig } from '../../models/config.ts';
import type { Tokenizer } from '../../tokenizers/tokenizer.ts';
import { createRng } from '../../util/random.ts';
import { medianMs, type Figure } from '../../util/bench-figure.ts';




/** stories260K greedy decoding of one sequence from BOS, against llama2.c's run.c speed. */
export async function benchStories(checkpoint: string, tokenizer: string, cTokensPerSecond = 6000): Promise<Figure[]> {
  const model = await loadNativeModel(checkpoint, tokenizer);
  const ms = await medianMs(() => model.sample({ prompt: [1], maxNewTokens: 256, temperature: 0 }), 5);
  await model.dispose();
  const tps = (256 / ms) * 1000;
  return [{ name: 'stories260K greedy decode, 1 sequence', value: tps, unit: 'tokens/s', reference: { name: 'llama2.c run.c on this machine', value: cTokensPerSecond, ratio: tps / cTokensPerSecond } }];
}

/** Minimal tokenizer for random-weight benchmark models (ids only). */
const idTokenizer = (vocab: number): Tokenizer => ({
  vocabSize: vocab, bosId: 1, eosId: null, padId: 0, hasChatTemplate: false,
  encode: (text) => Array.from(text, (c) => c.charCodeAt(0) % vocab),
  decode: (ids) => ids.join(' '),
  applyChatTemplate: (m) => m.map((x) => x.content).join('\n'),
});

export const GPT2_SMALL_LLAMA: ModelConfig = {
  family: 'llama', architecture: 'LlamaForCausalLM', vocabSize: 50257, hiddenSize: 768, numLayers: 12, numHeads: 12, numKvHeads: 12,
  headDim: 64, intermediateSize: 3072, maxPositions: 1024, normEps: 1e-5, ropeTheta: 10000, attentionBias: false,
  tieWordEmbeddings: false, slidingWindow: null, bosTokenId: 1, eosTokenId: null, torchDtype: 'float32',
};

/** PyTorch figures measured on this machine (notes/backends.md §4, plain PyTorch + OpenBLAS, 2 threads). */
export const TORCH_REFERENCE = { prefill128Ms: 371, decode1Ms: 108.6, decode8Ms: 146.8 };

/** A llama-shaped model of GPT-2-small size with random weights: prefill, scoring and decoding. */
export async function benchGpt2SizedLlama(torch = TORCH_REFERENCE): Promise<Figure[]> {
  const cfg = GPT2_SMALL_LLAMA;
  const model = await NativeModel.create('gpt2-sized llama', cfg, randomInitWeights(cfg, 0), idTokenizer(cfg.vocabSize));
  const rng = createRng(1);
  const seq = (n: number) => [1, ...Array.from({ length: n - 1 }, () => 2 + rng.int(cfg.vocabSize - 2))];
  const prompt = seq(128);
  const prefillMs = await medianMs(async () => (await model.open([prompt])).close(), 3);
  const items = Array.from({ length: 8 }, () => ({ prefix: seq(64), continuation: seq(64).slice(1) }));
  const scoreMs = await medianMs(() => model.score(items), 2);
  const decode = async (rows: number) => {
    const state = await model.open(Array.from({ length: rows }, () => seq(16)));
    const steps = 16;
    const t = performance.now();
    for (let i = 0; i < steps; i++) await state.append(Array.from({ length: rows }, () => [2 + rng.int(1000)]));
    state.close();
    return (performance.now() - t) / steps;
  };
  await decode(1);
  const decode1 = await decode(1);
  const decode8 = await decode(8);
  await model.dispose();
  return [
    { name: 'GPT-2-small-sized llama: prefill 128 tokens', value: prefillMs, unit: 'ms', reference: { name: 'plain PyTorch (notes)', value: torch.prefill128Ms, ratio: torch.prefill128Ms / prefillMs } },
    { name: 'GPT-2-small-sized llama: scoring 8×128 tokens', value: (8 * 127) / (scoreMs / 1000), unit: 'tokens/s' },
    { name: 'GPT-2-small-sized llama: decode, 1 sequence', value: decode1, unit: 'ms/step', reference: { name: 'plain PyTorch (notes)', value: torch.decode1Ms, ratio: torch.decode1Ms / decode1 } },
    { name: 'GPT-2-small-sized llama: decode, 8 sequences', value: decode8, unit: 'ms/step', reference: { name: 'plain PyTorch (notes)', value: torch.decode8Ms, ratio: torch.decode8Ms / decode8 } },
  ];
}

/** Peak resident memory while loading and running a model, against 2× its float32 weights + 300 MB. */
export async function benchMemory(): Promise<Figure[]> {
  const cfg = GPT2_SMALL_LLAMA;
  const weights = randomInitWeights(cfg, 0);
  let bytes = 0;
  for (const w of weights.values()) bytes += w.data.byteLength;
  const model = await NativeModel.create('memory', cfg, weights, idTokenizer(cfg.vocabSize), { consumeWeights: true });
  await (await model.open([[1, 2, 3, 4]])).close();
  await model.dispose();
  const peak = process.resourceUsage().maxRSS * 1024;
  const budget = 2 * bytes + 300e6;
  return [{ name: 'peak RSS running a GPT-2-small-sized llama', value: peak / 1e6, unit: 'MB', reference: { name: '2× float32 weights + 300 MB', value: budget / 1e6, ratio: budget / peak } }];
}
