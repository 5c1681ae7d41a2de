/**
 * Reward and value model directories as other tools write them: an HF directory whose
 * config.json names a *ForSequenceClassification architecture with one label, holding the
 * language-model weights (lm_head may be absent) and the scalar head `score.weight` [1, D].
 */
import { existsSync } from 'node:fs';
import { readJsonFile } from '../util/data-file.ts';
import { join } from 'node:path';
import { formatError, inputError } from '../errors.ts';
import { parseHfConfig, type ModelConfig } from '../models/config.ts';
import { CONFIG_FILE } from '../models/hf-directory.ts';
import { SCORE_HEAD } from '../models/inference-graphs.ts';
import { findCheckpointFile, readSafetensors } from '../models/safetensors.ts';
import { expectedWeightShapes, gpt2PrefixOf } from '../models/weight-shapes.ts';
import type { Weights } from '../models/weights.ts';
import { loadTokenizer } from '../tokenizers/load-tokenizer.ts';
import type { Tokenizer } from '../tokenizers/tokenizer.ts';

/** The sequence-classification architecture of each causal-LM architecture. */
export const SEQUENCE_CLASSIFIER: Record<string, string> = {
  LlamaForCausalLM: 'LlamaForSequenceClassification',
  Qwen2ForCausalLM: 'Qwen2ForSequenceClassification',
  MistralForCausalLM: 'MistralForSequenceClassification',
  GPT2LMHeadModel: 'GPT2ForSequenceClassification',
};

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
  const arch = Object.entries(SEQUENCE_CLASSIFIER).find(([, seq]) => raw.architectures?.includes(seq))?.[0];
  if (!arch)
    throw formatError(
      `expected a reward model (architectures: one of ${Object.values(SEQUENCE_CLASSIFIER).join(', ')})`,
      { file, field: 'architectures' },
    );
  if (raw.num_labels !== undefined && raw.num_labels !== 1)
    throw formatError(`a reward model has num_labels 1, got ${raw.num_labels}`, { file, field: 'num_labels' });
  const config = parseHfConfig({ ...raw, architectures: [arch] }, file);
  const all = readSafetensors(findCheckpointFile(dir));
  const score = all.get(SCORE_HEAD);
  if (!score || score.data.length !== config.hiddenSize)
    throw formatError(`missing ${SCORE_HEAD} [1, ${config.hiddenSize}]`, { file: dir });
  const prefix = config.family === 'gpt2' ? gpt2PrefixOf(all.keys()) : undefined;
  const diskNames = [...expectedWeightShapes(config, prefix).keys()];
  const memoryNames = [...expectedWeightShapes(config).keys()];
  const weights: Weights = new Map();
  diskNames.forEach((name, i) => {
    const t = all.get(name);
    if (t) weights.set(memoryNames[i], t);
    else if (name !== 'lm_head.weight') throw formatError(`tensor "${name}" is missing`, { file: dir });
  });
  weights.set(SCORE_HEAD, score);
  return { config, weights, tokenizer: loadTokenizer(dir), score: score.data };
}
