/**
 * The HF tensor names and shapes a config implies (as its architecture specification lists
 * them), and the check that a checkpoint has them. Linear weights are [out, in]; GPT-2's Conv1D
 * weights are [in, out].
 */
import { formatError } from '../errors.ts';
import type { ModelConfig } from './config.ts';
import { specOf } from './architectures/registry.ts';
import { formatShape, sameShape } from './shape.ts';

export { gpt2PrefixOf } from './architectures/gpt2.ts';

/**
 * Tensors a checkpoint may hold that are not weights: causal-mask and RoPE buffers saved by
 * older transformers versions. They are skipped when loading.
 */
export function isKnownBuffer(name: string): boolean {
  return /(^|\.)attn\.(masked_)?bias$/.test(name) || /rotary_emb\.inv_freq$/.test(name);
}

/**
 * Every tensor `cfg` needs, name -> shape, as alignkit keeps them in memory; with `storedNames`
 * (a checkpoint's tensor names), as that checkpoint names them (GPT-2 with or without
 * `transformer.`). Both list the tensors in the same order.
 */
export function expectedWeightShapes(cfg: ModelConfig, storedNames?: Iterable<string>): Map<string, number[]>;
/** GPT-2 names carry `gpt2Prefix` ('transformer.' as save_pretrained writes; '' as in the original hub files). */
export function expectedWeightShapes(cfg: ModelConfig, gpt2Prefix: string): Map<string, number[]>;
export function expectedWeightShapes(cfg: ModelConfig, naming?: Iterable<string> | string): Map<string, number[]> {
  const stored = typeof naming === 'string' ? (naming === '' ? ['wte.weight'] : ['transformer.wte.weight']) : naming;
  return specOf(cfg).weightShapes(cfg, stored);
}

/** Pairs of (name in the checkpoint, name in memory) for every tensor the config needs. */
export function storedWeightNames(cfg: ModelConfig, storedNames: Iterable<string>): [string, string][] {
  const stored = [...expectedWeightShapes(cfg, storedNames).keys()];
  const memory = [...expectedWeightShapes(cfg).keys()];
  return stored.map((name, i) => [name, memory[i]]);
}

/**
 * Checks that `shapes` (name -> shape, as a checkpoint holds them) has every tensor `cfg` needs,
 * with the right shape, and nothing the config does not explain. `file` names the checkpoint.
 * A tied lm_head.weight that is present anyway is accepted (some writers keep it).
 */
export function checkWeightShapes(cfg: ModelConfig, shapes: Map<string, number[]>, file: string): void {
  const expected = expectedWeightShapes(cfg, shapes.keys());
  const dims = describeDims(cfg);
  for (const [name, shape] of expected) {
    const found = shapes.get(name);
    if (!found)
      throw formatError(`tensor "${name}" is missing (expected shape ${formatShape(shape)}; config: ${dims})`, {
        file,
      });
    if (!sameShape(found, shape)) {
      throw formatError(
        `tensor "${name}" has shape ${formatShape(found)}, expected ${formatShape(shape)} (config: ${dims})`,
        { file },
      );
    }
  }
  for (const [name, shape] of shapes) {
    if (expected.has(name) || isKnownBuffer(name)) continue;
    if (name === 'lm_head.weight' && sameShape(shape, [cfg.vocabSize, cfg.hiddenSize])) continue;
    throw formatError(`unexpected tensor "${name}" ${formatShape(shape)}: the config (${dims}) has no place for it`, {
      file,
    });
  }
}

function describeDims(cfg: ModelConfig): string {
  const spec = specOf(cfg);
  // grouped-query families say how many kv heads; GPT-2 (no RoPE, no grouping) the head size
  const rope = spec.attention(cfg)[0]?.rope ?? null;
  const heads = rope === null ? `head size ${cfg.headDim}` : `${cfg.numKvHeads} kv heads of ${cfg.headDim}`;
  return [
    `${cfg.architecture}`,
    `vocab ${cfg.vocabSize}`,
    `hidden ${cfg.hiddenSize}`,
    `${cfg.numLayers} layers`,
    `${cfg.numHeads} heads`,
    heads,
    `intermediate ${cfg.intermediateSize}`,
    ...(spec.describe?.(cfg) ?? []),
    cfg.tieWordEmbeddings ? 'tied embeddings' : 'separate lm_head',
  ].join(', ');
}
