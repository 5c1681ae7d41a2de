import type { ModelConfig } from './config.ts';
import { expectedWeightShapes } from './weight-shapes.ts';
import type { Weights } from './weights.ts';
import { createRng } from '../util/random.ts';

const isNormWeight = (name: string) => /(layernorm|norm|ln_1|ln_2|ln_f)\.weight$/.test(name);
const isBias = (name: string) => /\.bias$/.test(name);
const isNormBias = (name: string) => /(ln_1|ln_2|ln_f)\.bias$/.test(name);

/**
 * Freshly initialized weights for a config, as HF initializes them: matrices normal(0, std),
 * biases 0 (random too with `randomBiases`, which tests use to exercise bias paths), norm weights 1. Deterministic in the seed. Used to train models from scratch, for
 * the random-init control of probes, and for benchmarks.
 */
export function randomInitWeights(
  cfg: ModelConfig,
  seed: number,
  std = 0.02,
  options: { randomBiases?: boolean } = {},
): Weights {
  const rng = createRng(seed);
  const weights: Weights = new Map();
  for (const [name, shape] of expectedWeightShapes(cfg)) {
    const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
    if (isNormWeight(name)) data.fill(1);
    else if (options.randomBiases ? !isNormBias(name) : !isBias(name))
      for (let i = 0; i < data.length; i++) data[i] = rng.normal() * std;
    weights.set(name, { shape, data });
  }
  return weights;
}
