/**
 * The llama2.c tokenizer `.bin` (karpathy/llama2.c `tokenizer.py` export):
 * int32 max_token_length, then per token: float32 score, int32 byte length, the bytes.
 * Ids 0/1/2 are <unk>/<s>/</s>; ids 3..258 are the byte-fallback pieces <0x00>..<0xFF>.
 * Encoding and decoding follow run.c exactly.
 */
import { readFileSync, existsSync, statSync } from '../util/io.ts';
import { formatError, inputError } from '../errors.ts';
import { latin1 } from '../util/latin1.ts';
import type { ChatMessage, Tokenizer } from './tokenizer.ts';
import { mergePairs, type PairMerge } from './pair-merge.ts';
import { PieceDecoder } from './piece-decoder.ts';
import { ChatTemplate } from './chat-template.ts';

export const LLAMA2C_UNK_ID = 0;
export const LLAMA2C_BOS_ID = 1;
export const LLAMA2C_EOS_ID = 2;
export const LLAMA2C_BYTE_OFFSET = 3;
/** SentencePiece names of the special ids (the .bin stores "\n<s>\n" and "\n</s>\n" for display). */
export const LLAMA2C_SPECIAL_NAMES = ['<unk>', '<s>', '</s>'] as const;

/** run.c starts its best score at -1e10 and needs a strictly better one to merge. */
const NEVER_MERGES_AT_OR_BELOW = -1e10;

export class Llama2cTokenizer implements Tokenizer {
  readonly vocabSize: number;
  readonly bosId = LLAMA2C_BOS_ID;
  readonly eosId = LLAMA2C_EOS_ID;
  readonly padId = LLAMA2C_EOS_ID;
  readonly hasChatTemplate = false;
  /** The raw bytes of every piece, as stored in the file. */
  readonly pieces: readonly Uint8Array[];
  readonly scores: Float32Array;
  readonly maxTokenLength: number;
  readonly source: string;

  /** Pieces as byte strings (one char per byte, latin1) so lookups are exact byte comparisons. */
  private readonly idOfByteString = new Map<string, number>();
  private readonly byteStrings: string[];
  private readonly pairCache = new Map<number, PairMerge | null>();
  private readonly decoder: PieceDecoder;
  private readonly chat = new ChatTemplate(null, { bosToken: '<s>', eosToken: '</s>' }, '');

  constructor(pieces: Uint8Array[], scores: Float32Array, maxTokenLength: number, source: string) {
    if (pieces.length !== scores.length) throw formatError('pieces and scores differ in length', { file: source });
    if (pieces.length < LLAMA2C_BYTE_OFFSET + 256) {
      throw formatError(
        `a llama2.c tokenizer needs at least ${LLAMA2C_BYTE_OFFSET + 256} tokens (3 special + 256 byte pieces), found ${pieces.length}`,
        { file: source },
      );
    }
    this.pieces = pieces;
    this.scores = scores;
    this.maxTokenLength = maxTokenLength;
    this.source = source;
    this.vocabSize = pieces.length;
    this.byteStrings = pieces.map(latin1);
    // run.c binary-searches a sorted copy; with duplicate pieces the first id is as good as any.
    for (let id = this.byteStrings.length - 1; id >= 0; id--) this.idOfByteString.set(this.byteStrings[id], id);

    const displayPieces = pieces.map((p, id) =>
      id < LLAMA2C_SPECIAL_NAMES.length ? new TextEncoder().encode(LLAMA2C_SPECIAL_NAMES[id]) : this.decodedPiece(id),
    );
    this.decoder = new PieceDecoder({
      pieces: displayPieces,
      specialIds: new Set([LLAMA2C_UNK_ID, LLAMA2C_BOS_ID, LLAMA2C_EOS_ID]),
      spaceStrippedAfter: LLAMA2C_BOS_ID,
      source,
    });
  }

  static fromFile(path: string): Llama2cTokenizer {
    if (!existsSync(path)) throw inputError('tokenizer file not found', { file: path });
    if (statSync(path).isDirectory())
      throw inputError('expected a llama2.c tokenizer .bin file, found a directory', { file: path });
    return Llama2cTokenizer.fromBuffer(readFileSync(path), path);
  }

  static fromBuffer(buf: Uint8Array, source: string): Llama2cTokenizer {
    const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    if (buf.byteLength < 4)
      throw formatError('not a llama2.c tokenizer: shorter than its 4-byte header', { file: source });
    const maxTokenLength = view.getInt32(0, true);
    if (maxTokenLength <= 0 || maxTokenLength > 4096) {
      throw formatError(`not a llama2.c tokenizer: header max_token_length is ${maxTokenLength}, expected 1..4096`, {
        file: source,
      });
    }
    const pieces: Uint8Array[] = [];
    const scores: number[] = [];
    let at = 4;
    while (at < buf.byteLength) {
      const id = pieces.length;
      if (at + 8 > buf.byteLength)
        throw formatError(`truncated: token ${id} record header at byte ${at} runs past the end of the file`, {
          file: source,
        });
      const score = view.getFloat32(at, true);
      const len = view.getInt32(at + 4, true);
      if (!Number.isFinite(score)) throw formatError(`token ${id} has a non-finite score (${score})`, { file: source });
      if (len < 0 || len > maxTokenLength) {
        throw formatError(
          `token ${id} has length ${len} at byte ${at + 4}, expected 0..${maxTokenLength} (max_token_length)`,
          { file: source },
        );
      }
      if (at + 8 + len > buf.byteLength)
        throw formatError(`truncated: token ${id} needs ${len} bytes at byte ${at + 8}, past the end of the file`, {
          file: source,
        });
      pieces.push(buf.slice(at + 8, at + 8 + len));
      scores.push(score);
      at += 8 + len;
    }
    return new Llama2cTokenizer(pieces, Float32Array.from(scores), maxTokenLength, source);
  }

  /** The piece of an id as text (byte pieces <0xNN> as their name). */
  piece(id: number): string {
    return new TextDecoder('utf-8', { ignoreBOM: true }).decode(this.pieces[id]);
  }

  /** Encodes as run.c's `encode(text, bos, eos=0)`. */
  encode(text: string, options: { addBos?: boolean } = {}): number[] {
    const ids: number[] = [];
    if (options.addBos ?? true) ids.push(LLAMA2C_BOS_ID);
    if (text.length === 0) return ids;
    const symbols: number[] = [];
    // add_dummy_prefix: run.c pushes the token of " " before the text.
    const bytes = latin1(new TextEncoder().encode(' ' + text));
    for (let i = 0; i < bytes.length;) {
      let end = i + 1;
      while (end < bytes.length && end - i < 4 && (bytes.charCodeAt(end) & 0xc0) === 0x80) end++;
      const codepoint = bytes.slice(i, end);
      const id = this.idOfByteString.get(codepoint);
      if (id !== undefined) symbols.push(id);
      else for (let k = i; k < end; k++) symbols.push(bytes.charCodeAt(k) + LLAMA2C_BYTE_OFFSET);
      i = end;
    }
    for (const id of mergePairs(symbols, (l, r) => this.lookupPair(l, r))) ids.push(id);
    return ids;
  }

  decode(ids: readonly number[], options: { skipSpecial?: boolean } = {}): string {
    return this.decoder.decode(ids, options.skipSpecial ?? true);
  }

  applyChatTemplate(messages: readonly ChatMessage[], options: { addGenerationPrompt?: boolean } = {}): string {
    return this.chat.apply(messages, options);
  }

  private lookupPair(left: number, right: number): PairMerge | undefined {
    const key = left * this.vocabSize + right;
    let m = this.pairCache.get(key);
    if (m === undefined) {
      const id = this.idOfByteString.get(this.byteStrings[left] + this.byteStrings[right]);
      m =
        id !== undefined && this.scores[id] > NEVER_MERGES_AT_OR_BELOW
          ? { priority: -this.scores[id], merged: id }
          : null;
      this.pairCache.set(key, m);
    }
    return m ?? undefined;
  }

  /** run.c's decode: "<0xNN>" pieces are raw bytes, everything else its bytes. */
  private decodedPiece(id: number): Uint8Array {
    const m = /^<0x([0-9A-Fa-f]{2})>$/.exec(this.byteStrings[id]);
    return m ? Uint8Array.of(parseInt(m[1], 16)) : this.pieces[id];
  }
}
