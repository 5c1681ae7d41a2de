/**
 * The ggml tensor types a GGUF file may hold (ids from ggml.h / docs/gguf.md) and their block
 * geometry: a row of a quantized tensor is a run of blocks, each `blockSize` values in
 * `blockBytes` bytes. Plain types are blocks of one value.
 */

export interface GgmlType {
  id: number;
  name: string;
  /** values per block */
  blockSize: number;
  /** bytes per block */
  blockBytes: number;
}

const QK = 32; // the classic block (Q4_0 … Q8_0)
export const QK_K = 256; // the K-quant super-block

const TYPES: GgmlType[] = [
  { id: 0, name: 'F32', blockSize: 1, blockBytes: 4 },
  { id: 1, name: 'F16', blockSize: 1, blockBytes: 2 },
  { id: 2, name: 'Q4_0', blockSize: QK, blockBytes: 2 + QK / 2 },
  { id: 3, name: 'Q4_1', blockSize: QK, blockBytes: 4 + QK / 2 },
  { id: 6, name: 'Q5_0', blockSize: QK, blockBytes: 2 + 4 + QK / 2 },
  { id: 7, name: 'Q5_1', blockSize: QK, blockBytes: 4 + 4 + QK / 2 },
  { id: 8, name: 'Q8_0', blockSize: QK, blockBytes: 2 + QK },
  { id: 9, name: 'Q8_1', blockSize: QK, blockBytes: 4 + QK },
  { id: 10, name: 'Q2_K', blockSize: QK_K, blockBytes: 4 + QK_K / 16 + QK_K / 4 },
  { id: 11, name: 'Q3_K', blockSize: QK_K, blockBytes: 2 + QK_K / 4 + QK_K / 8 + 12 },
  { id: 12, name: 'Q4_K', blockSize: QK_K, blockBytes: 4 + 12 + QK_K / 2 },
  { id: 13, name: 'Q5_K', blockSize: QK_K, blockBytes: 4 + 12 + QK_K / 2 + QK_K / 8 },
  { id: 14, name: 'Q6_K', blockSize: QK_K, blockBytes: 2 + QK_K / 16 + (3 * QK_K) / 4 },
  { id: 15, name: 'Q8_K', blockSize: QK_K, blockBytes: 4 + QK_K + QK_K / 8 },
  { id: 24, name: 'I8', blockSize: 1, blockBytes: 1 },
  { id: 25, name: 'I16', blockSize: 1, blockBytes: 2 },
  { id: 26, name: 'I32', blockSize: 1, blockBytes: 4 },
  { id: 27, name: 'I64', blockSize: 1, blockBytes: 8 },
  { id: 28, name: 'F64', blockSize: 1, blockBytes: 8 },
  { id: 30, name: 'BF16', blockSize: 1, blockBytes: 2 },
];

/** Known ids that are not in TYPES (so an error can say "known but unsupported" rather than "unknown"). */
const OTHER_KNOWN_NAMES: Record<number, string> = {
  16: 'IQ2_XXS',
  17: 'IQ2_XS',
  18: 'IQ3_XXS',
  19: 'IQ1_S',
  20: 'IQ4_NL',
  21: 'IQ3_S',
  22: 'IQ2_S',
  23: 'IQ4_XS',
  29: 'IQ1_M',
  34: 'TQ1_0',
  35: 'TQ2_0',
};

const BY_ID = new Map(TYPES.map((t) => [t.id, t]));
const BY_NAME = new Map(TYPES.map((t) => [t.name, t]));

export function ggmlTypeById(id: number): GgmlType | undefined {
  return BY_ID.get(id);
}

export function ggmlType(name: GgmlTypeName): GgmlType {
  return BY_NAME.get(name)!;
}

/** The name of a type id for messages: 'Q4_K', 'IQ2_XS (not supported)', 'unknown type 77'. */
export function describeTypeId(id: number): string {
  return BY_ID.get(id)?.name ?? (OTHER_KNOWN_NAMES[id] ? `${OTHER_KNOWN_NAMES[id]}` : `unknown type ${id}`);
}

/** Types whose values alignkit can read as floats. */
export const READABLE_TYPES = [
  'F32',
  'F16',
  'BF16',
  'Q8_0',
  'Q4_0',
  'Q4_1',
  'Q5_0',
  'Q5_1',
  'Q4_K',
  'Q5_K',
  'Q6_K',
] as const;
export type GgmlTypeName = (typeof READABLE_TYPES)[number];

export const isReadableType = (name: string): name is GgmlTypeName =>
  (READABLE_TYPES as readonly string[]).includes(name);

/** Bytes a tensor of `numValues` values takes; null when a row does not split into whole blocks. */
export function tensorBytes(type: GgmlType, rowLength: number, numValues: number): number | null {
  if (rowLength % type.blockSize !== 0) return null;
  return (numValues / type.blockSize) * type.blockBytes;
}
