/**
 * What training writes: HF directories that alignkit and other tools load.
 * - a causal LM: config.json + model.safetensors + generation_config.json + tokenizer files;
 * - a reward model: the same with `architectures: [<Family>ForSequenceClassification]`,
 *   `num_labels: 1` and the head `score.weight` [1, D] (transformers'
 *   AutoModelForSequenceClassification reads it; the LM head is kept so alignkit can also run
 *   it as a language model);
 * - LoRA adapters: PEFT's adapter_config.json + adapter_model.safetensors.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { inputError } from '../errors.ts';
import { configToHf, type ModelConfig } from '../models/config.ts';
import { writeHfDirectory, CONFIG_FILE } from '../models/hf-directory.ts';
import { writeSafetensors, writeSafetensorsCheckpoint } from '../models/safetensors.ts';
import { checkWeightShapes } from '../models/weight-shapes.ts';
import type { Weights } from '../models/weights.ts';
import { HfTokenizer } from '../tokenizers/hf-tokenizer.ts';
import { Llama2cTokenizer } from '../tokenizers/llama2c-tokenizer.ts';
import { hfTokenizerFiles, saveTokenizer } from '../tokenizers/save-tokenizer.ts';
import type { Tokenizer } from '../tokenizers/tokenizer.ts';
import { writeDirectoryAtomic } from './atomic-directory.ts';
import { isConv1d, type LoraConfig } from './lora.ts';
import { ADAPTER_CONFIG, ADAPTER_WEIGHTS, PEFT_PREFIX } from '../models/lora-adapter.ts';
import { SCORE_WEIGHT } from './reward-objective.ts';
import { specOf } from '../models/architectures/registry.ts';

export { isRewardModelDirectory, readRewardModel } from '../lm/reward-model-directory.ts';

export { readAdapters, ADAPTER_CONFIG, ADAPTER_WEIGHTS } from '../models/lora-adapter.ts';

export interface SavedModel {
  config: ModelConfig;
  weights: Weights;
  tokenizer: Tokenizer;
}

function tokenizerFiles(tokenizer: Tokenizer, cfg: ModelConfig): Record<string, string> {
  if (!(tokenizer instanceof HfTokenizer) && !(tokenizer instanceof Llama2cTokenizer)) return {};
  const files = hfTokenizerFiles(tokenizer, { modelMaxLength: cfg.maxPositions });
  return {
    'tokenizer.json': JSON.stringify(files.tokenizerJson),
    'tokenizer_config.json': JSON.stringify(files.tokenizerConfig, null, 2),
  };
}

export function writeLanguageModel(dir: string, m: SavedModel): void {
  writeHfDirectory(dir, m.config, m.weights, { extraFiles: tokenizerFiles(m.tokenizer, m.config) });
}

export function writeRewardModel(dir: string, m: SavedModel): void {
  const score = m.weights.get(SCORE_WEIGHT);
  if (!score) throw inputError(`a reward model needs ${SCORE_WEIGHT}`);
  const lm: Weights = new Map([...m.weights].filter(([n]) => n !== SCORE_WEIGHT));
  checkWeightShapes(m.config, new Map([...lm].map(([n, t]) => [n, t.shape])), `weights to save in ${dir}`);
  writeDirectoryAtomic(dir, (tmp) => {
    const hf = configToHf(m.config);
    const config = {
      ...hf,
      architectures: [specOf(m.config).sequenceClassifier],
      num_labels: 1,
      id2label: { 0: 'LABEL_0' },
      label2id: { LABEL_0: 0 },
      pad_token_id: m.tokenizer.padId,
    };
    writeFileSync(join(tmp, CONFIG_FILE), JSON.stringify(config, null, 2) + '\n');
    const toSave: Weights = new Map(
      [...lm].filter(([name]) => !(m.config.tieWordEmbeddings && name === 'lm_head.weight')),
    );
    toSave.set(SCORE_WEIGHT, score);
    writeSafetensorsCheckpoint(tmp, toSave);
    if (m.tokenizer instanceof HfTokenizer || m.tokenizer instanceof Llama2cTokenizer)
      saveTokenizer(m.tokenizer, tmp, { modelMaxLength: m.config.maxPositions });
  });
}

export function writeAdapters(
  dir: string,
  adapters: Weights,
  lora: LoraConfig,
  info: { config: ModelConfig; baseModel: string; taskType: 'CAUSAL_LM' | 'SEQ_CLS'; extra?: Weights },
): void {
  writeDirectoryAtomic(dir, (tmp) => {
    const tensors: Weights = new Map();
    for (const [name, t] of adapters) tensors.set(PEFT_PREFIX + name, t);
    for (const [name, t] of info.extra ?? []) tensors.set(PEFT_PREFIX + name, t);
    writeSafetensors(join(tmp, ADAPTER_WEIGHTS), tensors);
    const adapterConfig = {
      peft_type: 'LORA',
      task_type: info.taskType,
      r: lora.rank,
      lora_alpha: lora.alpha,
      lora_dropout: 0,
      target_modules: [...lora.targets],
      bias: 'none',
      fan_in_fan_out: [...adapters.keys()].some((n) =>
        isConv1d(info.config, n.replace(/\.lora_[AB]\.weight$/, '.weight')),
      ),
      inference_mode: true,
      init_lora_weights: true,
      modules_to_save: info.extra?.size ? [...info.extra.keys()].map((n) => n.replace(/\.weight$/, '')) : null,
      base_model_name_or_path: info.baseModel,
    };
    writeFileSync(join(tmp, ADAPTER_CONFIG), JSON.stringify(adapterConfig, null, 2) + '\n');
  });
}
