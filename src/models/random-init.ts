import type { ModelConfig } from './config.ts';
import { specOf } from './architectures/registry.ts';
import { expectedWeightShapes } from './weight-shapes.ts';
import type { Weights } from './weights.ts';
import { createRng } from '../util/random.ts';

/**
 * Freshly initialized weights for a config, as HF initializes the family (its spec's init
 * rule): matrices normal(0, std), biases 0 (random too with `randomBiases`, which tests use to
 * exercise bias paths), norm weights 1 (0 for Gemma's 1 + w norms). Deterministic in the seed.
 * Used to train models from scratch, for the random-init control of probes, and for benchmarks.
 */
export function randomInitWeights(
  cfg: ModelConfig,
  seed: number,
  std = 0.02,
  options: { randomBiases?: boolean } = {},
): Weights {
  const rng = createRng(seed);
  const spec = specOf(cfg);
  const weights: Weights = new Map();
  for (const [name, shape] of expectedWeightShapes(cfg)) {
    const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
    const rule = spec.initRule(name);
    if (rule === 'ones') data.fill(1);
    else if (rule === 'normal' || (rule === 'bias' && options.randomBiases))
      for (let i = 0; i < data.length; i++) data[i] = rng.normal() * std;
    weights.set(name, { shape, data });
  }
  return weights;
}
