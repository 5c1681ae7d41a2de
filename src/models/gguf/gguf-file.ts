/**
 * Reading a GGUF file (docs/gguf.md, versions 2 and 3, little-endian): the header, the metadata
 * key/value pairs and the tensor infos are parsed once, with every length and offset checked
 * against the file's size before anything is read; tensor data is then read lazily, one tensor at
 * a time at its offset, so loading a model never holds the whole file in memory.
 */
import { closeSync, existsSync, fstatSync, openSync, readSync, statSync } from '../../util/io.ts';
import { formatError, inputError } from '../../errors.ts';
import { latin1 } from '../../util/latin1.ts';
import { readFully } from '../safetensors.ts';
import { formatShape } from '../shape.ts';
import { dequantize } from './dequantize.ts';
import {
  describeTypeId,
  ggmlTypeById,
  isReadableType,
  READABLE_TYPES,
  tensorBytes,
  type GgmlType,
  type GgmlTypeName,
} from './ggml-types.ts';

export const GGUF_MAGIC = 'GGUF';
export const DEFAULT_ALIGNMENT = 32;
/** llama.cpp's GGML_MAX_DIMS and GGML_MAX_NAME. */
const MAX_DIMS = 4;
const MAX_NAME_BYTES = 63;

/** Metadata value types (gguf_metadata_value_type). */
export enum GgufValueType {
  UINT8 = 0,
  INT8 = 1,
  UINT16 = 2,
  INT16 = 3,
  UINT32 = 4,
  INT32 = 5,
  FLOAT32 = 6,
  BOOL = 7,
  STRING = 8,
  ARRAY = 9,
  UINT64 = 10,
  INT64 = 11,
  FLOAT64 = 12,
}

/** A metadata value; numeric arrays come as typed arrays, string arrays as string[]. */
export type GgufValue =
  | number
  | bigint
  | boolean
  | string
  | GgufValue[]
  | Uint8Array
  | Int8Array
  | Uint16Array
  | Int16Array
  | Uint32Array
  | Int32Array
  | Float32Array
  | Float64Array
  | BigUint64Array
  | BigInt64Array;

export interface GgufEntry {
  type: GgufValueType;
  /** for arrays, the element type */
  itemType?: GgufValueType;
  value: GgufValue;
}

export interface GgufTensorInfo {
  name: string;
  /** ggml order: dims[0] is the row length (the fastest-varying axis) */
  dims: number[];
  /** row-major shape as PyTorch / HF see it: dims reversed */
  shape: number[];
  type: GgmlTypeName;
  /** absolute position in the file */
  byteOffset: number;
  byteLength: number;
  numValues: number;
}

/** True when the file starts with the GGUF magic bytes (how a checkpoint path is told to be GGUF). */
export function isGgufFile(path: string): boolean {
  if (!existsSync(path) || !statSync(path).isFile()) return false;
  const fd = openSync(path, 'r');
  try {
    const magic = new Uint8Array(4);
    return readSync(fd, magic, 0, 4, 0) === 4 && latin1(magic) === GGUF_MAGIC;
  } finally {
    closeSync(fd);
  }
}

export class GgufFile {
  readonly file: string;
  readonly version: number;
  readonly metadata: ReadonlyMap<string, GgufEntry>;
  readonly tensors: ReadonlyMap<string, GgufTensorInfo>;
  readonly alignment: number;
  /** where the tensor data section starts */
  readonly dataOffset: number;
  readonly fileSize: number;
  private fd: number | null;

  private constructor(file: string, fd: number, header: ParsedHeader) {
    this.file = file;
    this.fd = fd;
    this.version = header.version;
    this.metadata = header.metadata;
    this.tensors = header.tensors;
    this.alignment = header.alignment;
    this.dataOffset = header.dataOffset;
    this.fileSize = header.fileSize;
  }

  /** Opens and validates `file`; the descriptor stays open for tensor reads until close(). */
  static open(file: string): GgufFile {
    if (!existsSync(file)) throw inputError('file not found', { file });
    if (statSync(file).isDirectory()) throw inputError('expected a GGUF file, found a directory', { file });
    const fd = openSync(file, 'r');
    try {
      return new GgufFile(file, fd, parseHeader(fd, file));
    } catch (e) {
      closeSync(fd);
      throw e;
    }
  }

  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }

  tensor(name: string): GgufTensorInfo {
    const info = this.tensors.get(name);
    if (!info) throw formatError(`no tensor "${name}" in the file`, { file: this.file });
    return info;
  }

  /** The tensor's bytes exactly as stored (quantized blocks stay blocks). */
  readRaw(name: string): Uint8Array {
    if (this.fd === null) throw new Error(`${this.file} is closed`);
    const info = this.tensor(name);
    const bytes = new Uint8Array(info.byteLength);
    readFully(this.fd, bytes, info.byteOffset, this.file);
    return bytes;
  }

  /**
   * A reader of the tensor's stored bytes that works after close(): it opens the file for each
   * read, so a model's tensors can be streamed into a graph long after the header was parsed.
   * A file that changed size since is refused rather than read at stale offsets.
   */
  deferredRaw(name: string): () => Uint8Array {
    const info = this.tensor(name);
    const { file, fileSize } = this;
    return () => {
      const fd = openSync(file, 'r');
      try {
        if (fstatSync(fd).size !== fileSize)
          throw formatError(`changed on disk while tensor "${name}" was still to be read`, { file });
        const bytes = new Uint8Array(info.byteLength);
        readFully(fd, bytes, info.byteOffset, file);
        return bytes;
      } finally {
        closeSync(fd);
      }
    };
  }

  /** The tensor as float32 values, dequantized, in ggml order (= row-major `shape`). */
  readFloat32(name: string): Float32Array {
    const info = this.tensor(name);
    return dequantize(info.type, this.readRaw(name), info.numValues);
  }

  has(key: string): boolean {
    return this.metadata.has(key);
  }

  /** Typed metadata access; each error names the file and the key. */
  string(key: string): string;
  string(key: string, fallback: string | null): string | null;
  string(key: string, fallback?: string | null): string | null {
    const entry = this.entry(key, fallback !== undefined);
    if (!entry) return fallback ?? null;
    if (entry.type !== GgufValueType.STRING) throw this.typeError(key, 'a string', entry);
    return entry.value as string;
  }

  /** An unsigned or signed integer of any width, as a safe non-negative number. */
  count(key: string): number;
  count(key: string, fallback: number | null): number | null;
  count(key: string, fallback?: number | null): number | null {
    const entry = this.entry(key, fallback !== undefined);
    if (!entry) return fallback ?? null;
    const v = entry.value;
    const n = typeof v === 'bigint' ? Number(v) : v;
    if (!INTEGER_TYPES.has(entry.type) || typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0)
      throw this.typeError(key, 'a non-negative integer', entry);
    return n;
  }

  number(key: string): number;
  number(key: string, fallback: number | null): number | null;
  number(key: string, fallback?: number | null): number | null {
    const entry = this.entry(key, fallback !== undefined);
    if (!entry) return fallback ?? null;
    const v = entry.value;
    if (typeof v !== 'number' && typeof v !== 'bigint') throw this.typeError(key, 'a number', entry);
    return Number(v);
  }

  boolean(key: string, fallback: boolean | null): boolean | null {
    const entry = this.entry(key, true);
    if (!entry) return fallback;
    if (entry.type !== GgufValueType.BOOL) throw this.typeError(key, 'a boolean', entry);
    return entry.value as boolean;
  }

  stringArray(key: string): string[];
  stringArray(key: string, optional: true): string[] | null;
  stringArray(key: string, optional = false): string[] | null {
    const entry = this.entry(key, optional);
    if (!entry) return null;
    if (entry.type !== GgufValueType.ARRAY || entry.itemType !== GgufValueType.STRING)
      throw this.typeError(key, 'an array of strings', entry);
    return entry.value as string[];
  }

  numberArray(key: string, optional: true): ArrayLike<number> | null {
    const entry = this.entry(key, optional);
    if (!entry) return null;
    if (entry.type !== GgufValueType.ARRAY || !NUMBER_ARRAY_TYPES.has(entry.itemType!))
      throw this.typeError(key, 'an array of numbers', entry);
    return entry.value as ArrayLike<number>;
  }

  error(key: string, message: string) {
    return formatError(message, { file: this.file, field: key });
  }

  private entry(key: string, optional: boolean): GgufEntry | undefined {
    const entry = this.metadata.get(key);
    if (!entry && !optional) throw this.error(key, 'missing from the metadata');
    return entry;
  }

  private typeError(key: string, expected: string, entry: GgufEntry) {
    const got =
      entry.type === GgufValueType.ARRAY
        ? `an array of ${GgufValueType[entry.itemType!]}`
        : `${GgufValueType[entry.type]} ${JSON.stringify(typeof entry.value === 'bigint' ? String(entry.value) : entry.value)}`;
    return this.error(key, `expected ${expected}, got ${got}`);
  }
}

const INTEGER_TYPES = new Set([
  GgufValueType.UINT8,
  GgufValueType.INT8,
  GgufValueType.UINT16,
  GgufValueType.INT16,
  GgufValueType.UINT32,
  GgufValueType.INT32,
  GgufValueType.UINT64,
  GgufValueType.INT64,
]);
const NUMBER_ARRAY_TYPES = new Set([...INTEGER_TYPES, GgufValueType.FLOAT32, GgufValueType.FLOAT64]);

interface ParsedHeader {
  version: number;
  metadata: Map<string, GgufEntry>;
  tensors: Map<string, GgufTensorInfo>;
  alignment: number;
  dataOffset: number;
  fileSize: number;
}

function parseHeader(fd: number, file: string): ParsedHeader {
  const fileSize = fstatSync(fd).size;
  const r = new HeaderReader(fd, file, fileSize);
  const magic = r.bytes(4, 'the magic bytes');
  if (latin1(magic) !== GGUF_MAGIC)
    throw formatError(`not a GGUF file (it starts with ${JSON.stringify(latin1(magic))}, expected "GGUF")`, {
      file,
    });
  const version = r.u32('the version');
  if (version !== 2 && version !== 3)
    throw formatError(`GGUF version ${version} is not supported (expected 2 or 3)`, { file, field: 'version' });
  // every tensor info and every key/value takes at least 8 bytes: a count beyond that is a lie
  const tensorCount = r.count('the tensor count', 8);
  const kvCount = r.count('the metadata count', 8);

  const metadata = new Map<string, GgufEntry>();
  for (let i = 0; i < kvCount; i++) {
    const key = r.string(`metadata key #${i}`);
    if (metadata.has(key)) throw formatError('duplicate metadata key', { file, field: key });
    const type = r.u32(`the type of metadata "${key}"`);
    metadata.set(key, r.value(type, key));
  }

  let alignment = DEFAULT_ALIGNMENT;
  const alignmentEntry = metadata.get('general.alignment');
  if (alignmentEntry) {
    const a = alignmentEntry.value;
    if (alignmentEntry.type !== GgufValueType.UINT32 || typeof a !== 'number' || a === 0 || a % 8 !== 0)
      throw formatError(`expected a uint32 multiple of 8, got ${String(a)}`, { file, field: 'general.alignment' });
    alignment = a;
  }

  const infos: { name: string; dims: number[]; typeId: number; offset: number }[] = [];
  for (let i = 0; i < tensorCount; i++) {
    const name = r.string(`the name of tensor #${i}`);
    const nameBytes = new TextEncoder().encode(name).length;
    if (nameBytes > MAX_NAME_BYTES)
      throw formatError(`tensor #${i} has a name of ${nameBytes} bytes (at most ${MAX_NAME_BYTES})`, {
        file,
      });
    const nDims = r.u32(`the dimension count of tensor "${name}"`);
    if (nDims === 0 || nDims > MAX_DIMS)
      throw formatError(`tensor "${name}" has ${nDims} dimensions (expected 1 to ${MAX_DIMS})`, { file });
    const dims: number[] = [];
    for (let d = 0; d < nDims; d++) dims.push(r.count(`dimension ${d} of tensor "${name}"`, 0));
    const typeId = r.u32(`the type of tensor "${name}"`);
    const offset = r.count(`the offset of tensor "${name}"`, 0);
    infos.push({ name, dims, typeId, offset });
  }
  const dataOffset = alignUp(r.position, alignment);

  const tensors = new Map<string, GgufTensorInfo>();
  for (const { name, dims, typeId, offset } of infos) {
    if (tensors.has(name)) throw formatError(`duplicate tensor "${name}"`, { file });
    tensors.set(name, tensorInfo(name, dims, typeId, offset, { file, alignment, dataOffset, fileSize }));
  }
  checkNoOverlap([...tensors.values()], file);
  return { version, metadata, tensors, alignment, dataOffset, fileSize };
}

function tensorInfo(
  name: string,
  dims: number[],
  typeId: number,
  offset: number,
  at: { file: string; alignment: number; dataOffset: number; fileSize: number },
): GgufTensorInfo {
  const { file } = at;
  const type = ggmlTypeById(typeId);
  if (!type || !isReadableType(type.name))
    throw formatError(
      `tensor "${name}" has type ${describeTypeId(typeId)}, which alignkit cannot read (supported: ${READABLE_TYPES.join(', ')})`,
      { file },
    );
  const numValues = dims.reduce((a, b) => a * b, 1);
  if (!Number.isSafeInteger(numValues))
    throw formatError(`tensor "${name}" has impossible dims ${formatShape(dims)}`, { file });
  const byteLength = tensorBytes(type as GgmlType, dims[0], numValues);
  if (byteLength === null)
    throw formatError(
      `tensor "${name}" is ${type.name} with rows of ${dims[0]} values, not a multiple of its block of ${type.blockSize}`,
      { file },
    );
  if (offset % at.alignment !== 0)
    throw formatError(
      `tensor "${name}" starts at data offset ${offset}, not a multiple of the alignment ${at.alignment}`,
      {
        file,
      },
    );
  const byteOffset = at.dataOffset + offset;
  if (byteOffset + byteLength > at.fileSize)
    throw formatError(
      `tensor "${name}" (${type.name} ${formatShape(dims)}, ${byteLength} bytes at byte ${byteOffset}) runs past the end of the file (${at.fileSize} bytes): truncated, or the header lies about sizes or offsets`,
      { file },
    );
  return { name, dims, shape: [...dims].reverse(), type: type.name, byteOffset, byteLength, numValues };
}

function checkNoOverlap(tensors: GgufTensorInfo[], file: string): void {
  const sorted = tensors.filter((t) => t.byteLength > 0).sort((a, b) => a.byteOffset - b.byteOffset);
  for (let i = 1; i < sorted.length; i++) {
    const prev = sorted[i - 1];
    if (sorted[i].byteOffset < prev.byteOffset + prev.byteLength)
      throw formatError(`tensors "${prev.name}" and "${sorted[i].name}" overlap in the data section`, { file });
  }
}

export const alignUp = (n: number, alignment: number) => Math.ceil(n / alignment) * alignment;

const ARRAY_CTORS: Partial<Record<GgufValueType, { bytes: number; make: (b: ArrayBuffer, n: number) => GgufValue }>> = {
  [GgufValueType.UINT8]: { bytes: 1, make: (b, n) => new Uint8Array(b, 0, n) },
  [GgufValueType.INT8]: { bytes: 1, make: (b, n) => new Int8Array(b, 0, n) },
  [GgufValueType.UINT16]: { bytes: 2, make: (b, n) => new Uint16Array(b, 0, n) },
  [GgufValueType.INT16]: { bytes: 2, make: (b, n) => new Int16Array(b, 0, n) },
  [GgufValueType.UINT32]: { bytes: 4, make: (b, n) => new Uint32Array(b, 0, n) },
  [GgufValueType.INT32]: { bytes: 4, make: (b, n) => new Int32Array(b, 0, n) },
  [GgufValueType.FLOAT32]: { bytes: 4, make: (b, n) => new Float32Array(b, 0, n) },
  [GgufValueType.UINT64]: { bytes: 8, make: (b, n) => new BigUint64Array(b, 0, n) },
  [GgufValueType.INT64]: { bytes: 8, make: (b, n) => new BigInt64Array(b, 0, n) },
  [GgufValueType.FLOAT64]: { bytes: 8, make: (b, n) => new Float64Array(b, 0, n) },
};
const SCALAR_BYTES: Partial<Record<GgufValueType, number>> = { [GgufValueType.BOOL]: 1 };
for (const [type, c] of Object.entries(ARRAY_CTORS)) SCALAR_BYTES[Number(type) as GgufValueType] = c!.bytes;

/**
 * Sequential reads of the header through a small buffer. Every read first checks that the bytes
 * exist, so a truncated or lying header fails naming what was being read, never reading past EOF.
 */
class HeaderReader {
  position = 0;
  private buffer = new Uint8Array(0);
  private bufferStart = 0;
  private readonly utf8 = new TextDecoder('utf-8', { fatal: true });

  constructor(
    private readonly fd: number,
    private readonly file: string,
    private readonly fileSize: number,
  ) {}

  bytes(n: number, what: string): Uint8Array {
    if (this.position + n > this.fileSize)
      throw formatError(
        `truncated: reading ${what} needs ${n} bytes at byte ${this.position}, but the file has ${this.fileSize} bytes`,
        { file: this.file },
      );
    const end = this.position + n;
    if (this.position < this.bufferStart || end > this.bufferStart + this.buffer.length) {
      const size = Math.min(Math.max(n, 1 << 20), this.fileSize - this.position);
      this.buffer = new Uint8Array(size);
      readFully(this.fd, this.buffer, this.position, this.file);
      this.bufferStart = this.position;
    }
    const out = this.buffer.subarray(this.position - this.bufferStart, end - this.bufferStart);
    this.position = end;
    return out;
  }

  u32(what: string): number {
    return littleEndian(this.bytes(4, what)).getUint32(0, true);
  }

  /** A uint64 count; `minBytesEach` > 0 checks that that many items could fit in the rest of the file. */
  count(what: string, minBytesEach: number): number {
    const n = littleEndian(this.bytes(8, what)).getBigUint64(0, true);
    const remaining = BigInt(this.fileSize - this.position);
    if (n > BigInt(Number.MAX_SAFE_INTEGER) || (minBytesEach > 0 && n * BigInt(minBytesEach) > remaining))
      throw formatError(
        `${what} is ${n}, more than the ${remaining} bytes left in the file could hold: truncated, or the header lies`,
        { file: this.file },
      );
    return Number(n);
  }

  string(what: string): string {
    const length = this.count(`the length of ${what}`, 1);
    try {
      return this.utf8.decode(this.bytes(length, what));
    } catch (e) {
      if ((e as Error).name === 'AlignkitError') throw e;
      throw formatError(`${what} is not valid UTF-8`, { file: this.file });
    }
  }

  value(type: number, key: string): GgufEntry {
    const what = `the value of "${key}"`;
    if (type === GgufValueType.ARRAY) {
      const itemType = this.u32(`the item type of "${key}"`);
      const n = this.count(`the length of "${key}"`, itemType === GgufValueType.STRING ? 8 : 1);
      const ctor = ARRAY_CTORS[itemType as GgufValueType];
      if (ctor) {
        if (n * ctor.bytes > this.fileSize - this.position)
          throw formatError(`truncated: "${key}" holds ${n} values that run past the end of the file`, {
            file: this.file,
            field: key,
          });
        const copy = new Uint8Array(n * ctor.bytes);
        // read in pieces no larger than the buffer window
        for (let done = 0; done < copy.length;) {
          const piece = Math.min(1 << 20, copy.length - done);
          copy.set(this.bytes(piece, what), done);
          done += piece;
        }
        return { type, itemType, value: ctor.make(copy.buffer, n) };
      }
      const items: GgufValue[] = [];
      for (let i = 0; i < n; i++) items.push(this.value(itemType, `${key}[${i}]`).value);
      return { type, itemType, value: items };
    }
    if (type === GgufValueType.STRING) return { type, value: this.string(what) };
    const size = SCALAR_BYTES[type as GgufValueType];
    if (size === undefined) throw formatError(`unknown metadata value type ${type}`, { file: this.file, field: key });
    const b = this.bytes(size, what);
    const v = littleEndian(b);
    switch (type as GgufValueType) {
      case GgufValueType.BOOL:
        if (b[0] > 1) throw formatError(`a boolean must be 0 or 1, got ${b[0]}`, { file: this.file, field: key });
        return { type, value: b[0] === 1 };
      case GgufValueType.UINT8:
        return { type, value: v.getUint8(0) };
      case GgufValueType.INT8:
        return { type, value: v.getInt8(0) };
      case GgufValueType.UINT16:
        return { type, value: v.getUint16(0, true) };
      case GgufValueType.INT16:
        return { type, value: v.getInt16(0, true) };
      case GgufValueType.UINT32:
        return { type, value: v.getUint32(0, true) };
      case GgufValueType.INT32:
        return { type, value: v.getInt32(0, true) };
      case GgufValueType.FLOAT32:
        return { type, value: shortestFloat32(v.getFloat32(0, true)) };
      case GgufValueType.FLOAT64:
        return { type, value: v.getFloat64(0, true) };
      case GgufValueType.UINT64:
        return { type, value: safeOrBig(v.getBigUint64(0, true)) };
      default:
        return { type, value: safeOrBig(v.getBigInt64(0, true)) };
    }
  }
}

/** Little-endian reads of a byte range (the file format's byte order). */
const littleEndian = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.byteLength);

const safeOrBig = (n: bigint): number | bigint =>
  n <= BigInt(Number.MAX_SAFE_INTEGER) && n >= BigInt(Number.MIN_SAFE_INTEGER) ? Number(n) : n;

/** The shortest decimal that is the same float32 (1e-5 rather than 0.000009999999747378752). */
function shortestFloat32(x: number): number {
  for (let digits = 1; digits < 10; digits++) {
    const short = Number(x.toPrecision(digits));
    if (Math.fround(short) === x) return short;
  }
  return x;
}
