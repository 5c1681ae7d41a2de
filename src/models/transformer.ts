/** The model graph of any supported architecture, as its specification builds it. */
import type { Ops } from '../engine/ops.ts';
import type { ModelConfig } from './config.ts';
import type { ParameterSource } from './parameters.ts';
import { layerAttention, specOf } from './architectures/registry.ts';
import type { BodyInputs, BodyOptions, BodyOutputs, LmHead } from './architectures/spec.ts';

export type { BodyInputs, BodyOptions, BodyOutputs, LmHead };

/** The decoder stack of any supported architecture (everything but the LM head). */
export function buildBody(
  o: Ops,
  cfg: ModelConfig,
  p: ParameterSource,
  io: BodyInputs,
  options: BodyOptions = {},
): BodyOutputs {
  return specOf(cfg).buildBody(o, cfg, p, io, options, layerAttention(cfg));
}

/** The LM head matrix [vocab, hidden] (tied models reuse the embedding) and its logit soft-cap. */
export function lmHead(cfg: ModelConfig, p: ParameterSource): LmHead {
  return specOf(cfg).lmHead(cfg, p);
}
