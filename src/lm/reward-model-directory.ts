/**
 * Reward and value model directories as other tools write them: an HF directory whose
 * config.json names a *ForSequenceClassification architecture with one label, holding the
 * language-model weights (lm_head may be absent) and the scalar head `score.weight` [1, D].
 */
import { existsSync, join } from '../util/io.ts';
import { readJsonFile } from '../util/data-file.ts';
import { formatError, inputError } from '../errors.ts';
import { parseHfConfig, type ModelConfig } from '../models/config.ts';
import { CONFIG_FILE } from '../models/hf-directory.ts';
import { SCORE_HEAD } from '../models/inference-graphs.ts';
import { findCheckpointFile, readSafetensors } from '../models/safetensors.ts';
import { storedWeightNames } from '../models/weight-shapes.ts';
import { SEQUENCE_CLASSIFIERS, specForSequenceClassifier } from '../models/architectures/registry.ts';
import type { Weights } from '../models/weights.ts';
import { loadTokenizer } from '../tokenizers/load-tokenizer.ts';
import type { Tokenizer } from '../tokenizers/tokenizer.ts';

export interface RewardModelFiles {
  config: ModelConfig;
  weights: Weights;
  tokenizer: Tokenizer;
  score: Float32Array;
}

export function isRewardModelDirectory(dir: string): boolean {
  if (!existsSync(join(dir, CONFIG_FILE))) return false;
  const raw = readJsonFile<{ architectures?: unknown }>(join(dir, CONFIG_FILE));
  return (
    Array.isArray(raw.architectures) &&
    raw.architectures.some((a: unknown) => typeof a === 'string' && a.endsWith('ForSequenceClassification'))
  );
}

/**
 * Reads a reward model directory: the LM config and weights (lm_head may be absent in models
 * from other tools) plus `score.weight`.
 */
export function readRewardModel(dir: string): RewardModelFiles {
  const file = join(dir, CONFIG_FILE);
  if (!existsSync(file)) throw inputError('not a model directory: no config.json', { file: dir });
  const raw = readJsonFile<Record<string, any>>(file);
  const arch = (Array.isArray(raw.architectures) ? raw.architectures : [])
    .map(specForSequenceClassifier)
    .find((s: unknown) => s !== undefined)?.architecture;
  if (!arch)
    throw formatError(`expected a reward model (architectures: one of ${SEQUENCE_CLASSIFIERS.join(', ')})`, {
      file,
      field: 'architectures',
    });
  if (raw.num_labels !== undefined && raw.num_labels !== 1)
    throw formatError(`a reward model has num_labels 1, got ${raw.num_labels}`, { file, field: 'num_labels' });
  const config = parseHfConfig({ ...raw, architectures: [arch] }, file);
  const all = readSafetensors(findCheckpointFile(dir));
  const score = all.get(SCORE_HEAD);
  if (!score || score.data.length !== config.hiddenSize)
    throw formatError(`missing ${SCORE_HEAD} [1, ${config.hiddenSize}]`, { file: dir });
  const weights: Weights = new Map();
  for (const [stored, name] of storedWeightNames(config, all.keys())) {
    const t = all.get(stored);
    if (t) weights.set(name, t);
    else if (stored !== 'lm_head.weight') throw formatError(`tensor "${stored}" is missing`, { file: dir });
  }
  weights.set(SCORE_HEAD, score);
  return { config, weights, tokenizer: loadTokenizer(dir), score: score.data };
}
