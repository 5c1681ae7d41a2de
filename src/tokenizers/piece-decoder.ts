import { inputError } from '../errors.ts';

/**
 * Decoding from a per-id cache of byte pieces: concatenate the bytes of the ids, then decode
 * UTF-8 once. This is what byte-level and byte-fallback tokenizers compute, and it stays cheap
 * when callers decode a growing sequence token by token.
 */
export interface PieceDecoderOptions {
  /** The bytes each id stands for. */
  pieces: readonly Uint8Array[];
  /** Ids dropped when decoding with skipSpecial. */
  specialIds: ReadonlySet<number>;
  /** How many leading spaces to drop from the decoded text (HF's Strip decoder after Fuse). */
  stripLeadingSpaces?: number;
  /**
   * A piece that begins the output or follows this id (BOS) loses one leading space: run.c's
   * rule after BOS, and SentencePiece's removal of the dummy prefix at the start.
   */
  spaceStrippedAfter?: number | null;
  /** Named in errors about ids outside the vocabulary. */
  source: string;
}

const SPACE = 0x20;

export class PieceDecoder {
  private readonly pieces: readonly Uint8Array[];
  private readonly specialIds: ReadonlySet<number>;
  private readonly stripLeadingSpaces: number;
  private readonly spaceStrippedAfter: number | null;
  private readonly source: string;
  private readonly utf8 = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true });

  constructor(options: PieceDecoderOptions) {
    this.pieces = options.pieces;
    this.specialIds = options.specialIds;
    this.stripLeadingSpaces = options.stripLeadingSpaces ?? 0;
    this.spaceStrippedAfter = options.spaceStrippedAfter ?? null;
    this.source = options.source;
  }

  /** The bytes of one id (no stripping). */
  bytesOf(id: number): Uint8Array {
    const piece = Number.isInteger(id) ? this.pieces[id] : undefined;
    if (piece === undefined) {
      throw inputError(`token id ${id} is outside the tokenizer's vocabulary (ids 0..${this.pieces.length - 1})`, {
        file: this.source,
      });
    }
    return piece;
  }

  decode(ids: readonly number[], skipSpecial: boolean): string {
    const kept: Uint8Array[] = [];
    const skipFirst: number[] = [];
    let total = 0;
    let previous = -1;
    for (const id of ids) {
      const piece = this.bytesOf(id);
      if (skipSpecial && this.specialIds.has(id)) {
        previous = id;
        continue;
      }
      let skip = 0;
      if (
        this.spaceStrippedAfter !== null &&
        piece[0] === SPACE &&
        (kept.length === 0 || previous === this.spaceStrippedAfter)
      )
        skip = 1;
      previous = id;
      kept.push(piece);
      skipFirst.push(skip);
      total += piece.length - skip;
    }
    const bytes = new Uint8Array(total);
    let at = 0;
    for (let i = 0; i < kept.length; i++) {
      const piece = skipFirst[i] ? kept[i].subarray(skipFirst[i]) : kept[i];
      bytes.set(piece, at);
      at += piece.length;
    }
    let start = 0;
    while (start < this.stripLeadingSpaces && start < bytes.length && bytes[start] === SPACE) start++;
    return this.utf8.decode(bytes.subarray(start));
  }
}
