/**
 * Saves a model with its tokenizer as one HF directory (config.json, safetensors, tokenizer.json,
 * tokenizer_config.json, special_tokens_map.json), atomically: a killed save leaves the old
 * directory or none, never a half-written one.
 */
import { writeHfDirectory, type WriteHfOptions } from '../models/hf-directory.ts';
import type { ModelConfig } from '../models/config.ts';
import type { Weights } from '../models/weights.ts';
import { hfTokenizerFiles, SPECIAL_TOKENS_MAP_JSON } from '../tokenizers/save-tokenizer.ts';
import { TOKENIZER_CONFIG_JSON, TOKENIZER_JSON, HfTokenizer, specialTokenName } from '../tokenizers/hf-tokenizer.ts';
import { Llama2cTokenizer } from '../tokenizers/llama2c-tokenizer.ts';
import type { Tokenizer } from '../tokenizers/tokenizer.ts';
import { inputError } from '../errors.ts';

export function saveCheckpoint(
  dir: string,
  config: ModelConfig,
  weights: Weights,
  tokenizer: Tokenizer,
  options: WriteHfOptions = {},
): void {
  if (!(tokenizer instanceof HfTokenizer || tokenizer instanceof Llama2cTokenizer))
    throw inputError('only HF and llama2.c tokenizers can be saved with a checkpoint');
  const files = hfTokenizerFiles(tokenizer, { modelMaxLength: config.maxPositions });
  const specialMap: Record<string, unknown> = {};
  for (const field of ['bos_token', 'eos_token', 'unk_token', 'pad_token']) {
    const name = specialTokenName(files.tokenizerConfig[field]);
    if (name !== null) specialMap[field] = name;
  }
  writeHfDirectory(dir, config, weights, {
    ...options,
    extraFiles: {
      [TOKENIZER_JSON]: JSON.stringify(files.tokenizerJson),
      [TOKENIZER_CONFIG_JSON]: JSON.stringify(files.tokenizerConfig, null, 2),
      [SPECIAL_TOKENS_MAP_JSON]: JSON.stringify(specialMap, null, 2),
      ...options.extraFiles,
    },
  });
}
