/**
 * Writes a tokenizer as an HF directory: tokenizer.json, tokenizer_config.json and
 * special_tokens_map.json. A llama2.c tokenizer is converted first (llama2c-to-hf.ts).
 */
import { join } from 'node:path';
import { writeJsonAtomic } from '../util/atomic-write.ts';
import {
  HfTokenizer,
  TOKENIZER_CONFIG_JSON,
  TOKENIZER_JSON,
  specialTokenName,
  type TokenizerConfigJson,
  type TokenizerJson,
} from './hf-tokenizer.ts';
import { Llama2cTokenizer } from './llama2c-tokenizer.ts';
import { llama2cToHfTokenizer } from './llama2c-to-hf.ts';

export const SPECIAL_TOKENS_MAP_JSON = 'special_tokens_map.json';

export interface HfTokenizerFiles {
  tokenizerJson: TokenizerJson;
  tokenizerConfig: TokenizerConfigJson;
}

/** The HF files of a tokenizer (a llama2.c one converted; `modelMaxLength` is set on conversion). */
export function hfTokenizerFiles(
  tok: HfTokenizer | Llama2cTokenizer,
  options: { modelMaxLength?: number } = {},
): HfTokenizerFiles {
  if (tok instanceof Llama2cTokenizer) return llama2cToHfTokenizer(tok, options);
  const tokenizerConfig: TokenizerConfigJson = { ...tok.config };
  // A template read from chat_template.jinja travels inside tokenizer_config.json.
  if (tok.chatTemplate.source !== null) tokenizerConfig.chat_template = tok.chatTemplate.source;
  return { tokenizerJson: tok.json, tokenizerConfig };
}

export function saveTokenizer(
  tok: HfTokenizer | Llama2cTokenizer | HfTokenizerFiles,
  dir: string,
  options: { modelMaxLength?: number } = {},
): void {
  const files = tok instanceof HfTokenizer || tok instanceof Llama2cTokenizer ? hfTokenizerFiles(tok, options) : tok;
  writeJsonAtomic(join(dir, TOKENIZER_JSON), files.tokenizerJson);
  writeJsonAtomic(join(dir, TOKENIZER_CONFIG_JSON), files.tokenizerConfig);
  writeJsonAtomic(join(dir, SPECIAL_TOKENS_MAP_JSON), specialTokensMap(files.tokenizerConfig));
}

function specialTokensMap(config: TokenizerConfigJson): Record<string, unknown> {
  const map: Record<string, unknown> = {};
  for (const field of ['bos_token', 'eos_token', 'unk_token', 'sep_token', 'pad_token', 'cls_token', 'mask_token']) {
    const name = specialTokenName(config[field]);
    if (name !== null) map[field] = name;
  }
  if (Array.isArray(config.additional_special_tokens)) map.additional_special_tokens = config.additional_special_tokens;
  return map;
}
