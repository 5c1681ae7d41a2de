/**
 * Writes a loaded checkpoint (HF directory, llama2.c, GGUF) as one GGUF file with its tokenizer,
 * so llama.cpp / Ollama / LM Studio run it.
 */
import { basename } from 'node:path';
import { inputError } from '../errors.ts';
import { writeGgufModel, type GgufPrecision, type WrittenGguf } from '../models/gguf/gguf-model.ts';
import { tokenizerToGgufVocabulary } from '../tokenizers/gguf-tokenizer.ts';
import { HfTokenizer } from '../tokenizers/hf-tokenizer.ts';
import { Llama2cTokenizer } from '../tokenizers/llama2c-tokenizer.ts';
import type { LocalCheckpoint } from './load.ts';

export function saveGguf(file: string, ckpt: LocalCheckpoint, precision: GgufPrecision): WrittenGguf {
  const tok = ckpt.tokenizer;
  if (!(tok instanceof HfTokenizer || tok instanceof Llama2cTokenizer))
    throw inputError('only HF and llama2.c tokenizers can be written into a GGUF file');
  if (ckpt.weights.has('score.weight'))
    throw inputError('a reward / value model (with a score head) has no GGUF form that llama.cpp runs', {
      file: ckpt.source,
    });
  return writeGgufModel(file, ckpt.config, ckpt.weights, {
    precision,
    vocabulary: tokenizerToGgufVocabulary(tok),
    name: basename(ckpt.source).replace(/\.(gguf|bin)$/, ''),
  });
}
