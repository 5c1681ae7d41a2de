/**
 * Converts a llama2.c tokenizer (pieces + scores) to an HF tokenizer.json in the Llama-2 layout
 * (sentencepiece-to-hf.ts explains the layout and why the encodings are equal).
 * Remaining, documented differences: HF splits out the literal special-token texts "<s>", "</s>",
 * "<unk>" before encoding, and a literal "▁" in the text reads as a space.
 */
import { formatError } from '../errors.ts';
import { LLAMA2C_BYTE_OFFSET, LLAMA2C_SPECIAL_NAMES, type Llama2cTokenizer } from './llama2c-tokenizer.ts';
import { PieceType, sentencePieceToHf, SPIECE_UNDERLINE, type ConvertedTokenizer } from './sentencepiece-to-hf.ts';

export type { ConvertedTokenizer } from './sentencepiece-to-hf.ts';

/** The llama2.c vocabulary as SentencePiece pieces: "▁" for spaces, ids 0–2 special, 3–258 bytes. */
export function llama2cPieces(tok: Llama2cTokenizer): { pieces: string[]; types: Int32Array } {
  const utf8 = new TextDecoder('utf-8', { fatal: true });
  const pieces: string[] = [];
  const types = new Int32Array(tok.vocabSize);
  for (let id = 0; id < tok.vocabSize; id++) {
    if (id < LLAMA2C_SPECIAL_NAMES.length) {
      pieces.push(LLAMA2C_SPECIAL_NAMES[id]);
      types[id] = id === 0 ? PieceType.UNKNOWN : PieceType.CONTROL;
      continue;
    }
    let text: string;
    try {
      text = utf8.decode(tok.pieces[id]);
    } catch {
      throw formatError(`token ${id} is not valid UTF-8, so it cannot be a tokenizer.json piece`, { file: tok.source });
    }
    const byte = id - LLAMA2C_BYTE_OFFSET;
    types[id] = byte < 256 ? PieceType.BYTE : PieceType.NORMAL;
    if (byte < 256) {
      const expected = `<0x${byte.toString(16).toUpperCase().padStart(2, '0')}>`;
      if (text !== expected)
        throw formatError(`token ${id} is "${text}", expected the byte-fallback piece ${expected}`, {
          file: tok.source,
        });
    }
    pieces.push(text.replaceAll(' ', SPIECE_UNDERLINE));
  }
  return { pieces, types };
}

export function llama2cToHfTokenizer(
  tok: Llama2cTokenizer,
  options: { modelMaxLength?: number } = {},
): ConvertedTokenizer {
  const { pieces, types } = llama2cPieces(tok);
  const converted = sentencePieceToHf({
    pieces,
    scores: tok.scores,
    types,
    unkId: 0,
    bosId: tok.bosId,
    eosId: tok.eosId,
    addBos: true,
    addEos: false,
    source: tok.source,
  });
  if (options.modelMaxLength !== undefined) converted.tokenizerConfig.model_max_length = options.modelMaxLength;
  return converted;
}
