/**
 * Loads a tokenizer from a path: an HF directory (tokenizer.json [+ tokenizer_config.json]),
 * a tokenizer.json file, or a llama2.c tokenizer `.bin`.
 */
import { existsSync, join, readdirSync, statSync } from '../util/io.ts';
import { formatError, inputError } from '../errors.ts';
import type { Tokenizer } from './tokenizer.ts';
import { HfTokenizer, TOKENIZER_JSON } from './hf-tokenizer.ts';
import { Llama2cTokenizer } from './llama2c-tokenizer.ts';

export type LoadedTokenizer = HfTokenizer | Llama2cTokenizer;

export function loadTokenizer(path: string): LoadedTokenizer {
  if (!existsSync(path))
    throw inputError(
      'tokenizer not found (expected an HF directory with tokenizer.json, a tokenizer.json file, or a llama2.c tokenizer .bin)',
      { file: path },
    );
  if (statSync(path).isDirectory()) {
    if (existsSync(join(path, TOKENIZER_JSON))) return HfTokenizer.fromDirectory(path);
    const files = readdirSync(path);
    const hint = files.includes('tokenizer.model')
      ? ' (it has a SentencePiece tokenizer.model; alignkit reads tokenizer.json, which `transformers` writes with save_pretrained)'
      : '';
    throw inputError(`no ${TOKENIZER_JSON} in this directory${hint}`, { file: path });
  }
  if (path.endsWith('.json')) return HfTokenizer.fromFile(path);
  return Llama2cTokenizer.fromFile(path);
}

/**
 * Checks that a tokenizer belongs to a model with `vocabSize` embedding rows: every id it can
 * produce must be a row. A llama2.c tokenizer pairs 1:1 with its model, so there the sizes must
 * be equal. `file` (the model) is named in the error.
 */
export function checkTokenizerMatchesModel(tok: Tokenizer, vocabSize: number, file: string): void {
  const tokenizerName = 'source' in tok && typeof tok.source === 'string' ? ` (${tok.source})` : '';
  // special tokens past the embedding rows are refused when a text spells them out (the model checks ids)
  const needed = tok instanceof HfTokenizer ? tok.regularVocabSize : tok.vocabSize;
  if (tok instanceof Llama2cTokenizer ? tok.vocabSize !== vocabSize : needed > vocabSize) {
    throw formatError(
      `the tokenizer${tokenizerName} has ${tok.vocabSize} tokens but the model's vocabulary has ${vocabSize}; the tokenizer does not belong to this model`,
      { file },
    );
  }
  for (const [name, id] of [
    ['bos', tok.bosId],
    ['eos', tok.eosId],
    ['pad', tok.padId],
  ] as const) {
    if (id !== null && (id < 0 || id >= vocabSize)) {
      throw formatError(`the tokenizer's ${name} id ${id} is outside the model's vocabulary of ${vocabSize}`, { file });
    }
  }
}
