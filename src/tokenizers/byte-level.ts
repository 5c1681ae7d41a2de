/**
 * GPT-2's byte-level alphabet: every byte maps to a printable unicode char (bytes_to_unicode),
 * so BPE vocabularies are strings and any text is encodable. Also GPT-2's pre-tokenization
 * pattern, the one @huggingface/tokenizers' ByteLevel pre-tokenizer applies.
 */
export const GPT2_PRETOKENIZE_PATTERN = /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/gu;

/** BYTE_TO_CHAR[b] is the char standing for byte b. */
export const BYTE_TO_CHAR: readonly string[] = (() => {
  const printable: number[] = [];
  for (let b = 0x21; b <= 0x7e; b++) printable.push(b);
  for (let b = 0xa1; b <= 0xac; b++) printable.push(b);
  for (let b = 0xae; b <= 0xff; b++) printable.push(b);
  const chars = new Array<string>(256);
  for (const b of printable) chars[b] = String.fromCharCode(b);
  let shifted = 0;
  for (let b = 0; b < 256; b++) if (chars[b] === undefined) chars[b] = String.fromCharCode(256 + shifted++);
  return chars;
})();

export const CHAR_TO_BYTE: ReadonlyMap<string, number> = new Map(BYTE_TO_CHAR.map((c, b) => [c, b]));

const utf8 = new TextEncoder();

/** The byte-level string of a text: its UTF-8 bytes as alphabet chars. */
export function toByteLevel(text: string): string {
  let out = '';
  for (const b of utf8.encode(text)) out += BYTE_TO_CHAR[b];
  return out;
}

/** The bytes a byte-level string stands for, or null when it has a char outside the alphabet. */
export function fromByteLevel(piece: string): Uint8Array | null {
  const bytes = new Uint8Array(piece.length);
  let n = 0;
  for (const c of piece) {
    const b = CHAR_TO_BYTE.get(c);
    if (b === undefined) return null;
    bytes[n++] = b;
  }
  return bytes.subarray(0, n);
}

/** Splits text into GPT-2 pre-tokens (words with their leading space, runs of punctuation, ...). */
export function pretokenize(text: string): string[] {
  return text.match(GPT2_PRETOKENIZE_PATTERN) ?? [];
}
