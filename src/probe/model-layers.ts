import { inputError } from '../errors.ts';
import type { LanguageModel } from '../lm/language-model.ts';

/**
 * The layers to collect: the requested ones, or every layer 0..L (0 = embeddings, L = after
 * the last block) when none are requested and the model says how many it has.
 */
export function resolveLayers(model: LanguageModel, requested?: readonly number[]): number[] {
  const count = model.numLayers;
  if (!requested?.length) {
    if (count === undefined)
      throw inputError(`model ${model.id} does not report its number of layers; pass --layers`, { field: '--layers' });
    return Array.from({ length: count + 1 }, (_, i) => i);
  }
  const layers = [...new Set(requested)].sort((a, b) => a - b);
  for (const l of layers)
    if (!Number.isInteger(l) || l < 0 || (count !== undefined && l > count))
      throw inputError(`layer ${l} does not exist (expected 0..${count ?? 'L'}; 0 = embeddings)`, {
        field: '--layers',
      });
  return layers;
}
