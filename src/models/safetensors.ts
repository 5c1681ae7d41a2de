/**
 * The safetensors format: an 8-byte little-endian header length, a JSON header naming each
 * tensor's dtype, shape and [begin, end) byte range in the data section, then the data.
 * Reading is lazy (one tensor at a time, straight from the file), so loading a model needs its
 * float32 bytes plus one tensor's worth of scratch, never the whole file twice.
 */
import {
  closeSync,
  dirname,
  existsSync,
  fstatSync,
  join,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  resolve,
  statSync,
  unlinkSync,
} from '../util/io.ts';
import { writeAll, writeThroughAtomic } from '../util/atomic-write.ts';
import { formatError, inputError } from '../errors.ts';
import { writeJsonAtomic } from '../util/atomic-write.ts';
import { bfloat16ToFloat32, float16ToFloat32, float32ToBfloat16, float32ToFloat16 } from '../util/half-precision.ts';
import { formatShape, numElements } from './shape.ts';
import type { WeightTensor, Weights } from './weights.ts';

const DTYPE_BYTES: Record<string, number> = {
  F64: 8,
  F32: 4,
  F16: 2,
  BF16: 2,
  I64: 8,
  I32: 4,
  I16: 2,
  I8: 1,
  U64: 8,
  U32: 4,
  U16: 2,
  U8: 1,
  BOOL: 1,
  F8_E4M3: 1,
  F8_E5M2: 1,
};
const FLOAT_DTYPES = ['F32', 'F16', 'BF16', 'F64'];

/** Dtypes alignkit writes. */
export type SaveDtype = 'F32' | 'F16' | 'BF16';

const MAX_HEADER_BYTES = 100_000_000n;

export const SINGLE_FILE_NAME = 'model.safetensors';
export const INDEX_FILE_NAME = 'model.safetensors.index.json';

/** One tensor's place on disk; byteOffset is absolute within `file`. */
export interface TensorEntry {
  name: string;
  dtype: string;
  shape: number[];
  file: string;
  byteOffset: number;
  byteLength: number;
}

export interface SafetensorsHeader {
  file: string;
  tensors: TensorEntry[];
  metadata: Record<string, string>;
}

/** Reads and validates one file's header; data is not read. */
export function readSafetensorsHeader(file: string): SafetensorsHeader {
  if (!existsSync(file)) throw inputError('file not found', { file });
  const fd = openSync(file, 'r');
  try {
    const fileSize = fstatSync(fd).size;
    if (fileSize < 8) {
      throw formatError(
        `truncated: the file has ${fileSize} bytes, but a safetensors file starts with an 8-byte header length`,
        { file },
      );
    }
    const lengthBytes = new Uint8Array(8);
    readFully(fd, lengthBytes, 0, file);
    const headerLength = new DataView(lengthBytes.buffer).getBigUint64(0, true);
    if (headerLength > BigInt(fileSize - 8)) {
      throw formatError(
        `the header length (${headerLength} bytes) runs past the end of the file (${fileSize} bytes): truncated, or not a safetensors file`,
        { file },
      );
    }
    if (headerLength > MAX_HEADER_BYTES) {
      throw formatError(
        `the header length (${headerLength} bytes) is over the format's 100 MB limit: not a safetensors file`,
        { file },
      );
    }
    const headerBytes = new Uint8Array(Number(headerLength));
    readFully(fd, headerBytes, 8, file);
    const dataStart = 8 + headerBytes.length;
    const header = parseHeaderJson(headerBytes, file);
    const tensors: TensorEntry[] = [];
    let metadata: Record<string, string> = {};
    for (const [name, value] of Object.entries(header)) {
      if (name === '__metadata__') metadata = parseMetadata(value, file);
      else tensors.push(parseEntry(name, value, file, dataStart, fileSize - dataStart));
    }
    checkNoOverlap(tensors, file, dataStart);
    return { file, tensors, metadata };
  } finally {
    closeSync(fd);
  }
}

function parseHeaderJson(bytes: Uint8Array, file: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (e) {
    throw formatError(`the JSON header is malformed (${(e as Error).message})`, { file });
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw formatError('the JSON header must be an object mapping tensor names to {dtype, shape, data_offsets}', {
      file,
    });
  }
  return parsed as Record<string, unknown>;
}

function parseMetadata(value: unknown, file: string): Record<string, string> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw formatError('"__metadata__" must be an object of strings', { file });
  }
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, String(v)]));
}

const isCount = (x: unknown): x is number => typeof x === 'number' && Number.isSafeInteger(x) && x >= 0;

function parseEntry(name: string, value: unknown, file: string, dataStart: number, dataSize: number): TensorEntry {
  const bad = (what: string) => formatError(`tensor "${name}": ${what}`, { file });
  if (typeof value !== 'object' || value === null) throw bad('expected an object {dtype, shape, data_offsets}');
  const { dtype, shape, data_offsets: offsets } = value as Record<string, unknown>;
  if (typeof dtype !== 'string' || !(dtype in DTYPE_BYTES)) {
    throw bad(`unknown dtype ${JSON.stringify(dtype)} (expected one of ${Object.keys(DTYPE_BYTES).join(', ')})`);
  }
  if (!Array.isArray(shape) || !shape.every(isCount))
    throw bad(`shape must be an array of non-negative integers, got ${JSON.stringify(shape)}`);
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isCount) || offsets[0] > offsets[1]) {
    throw bad(`data_offsets must be [begin, end] with 0 <= begin <= end, got ${JSON.stringify(offsets)}`);
  }
  const [begin, end] = offsets as [number, number];
  const needed = numElements(shape) * DTYPE_BYTES[dtype];
  if (end - begin !== needed) {
    throw bad(
      `data_offsets [${begin}, ${end}] hold ${end - begin} bytes, but shape ${formatShape(shape)} of ${dtype} needs ${needed} bytes`,
    );
  }
  if (end > dataSize) {
    throw bad(
      `data_offsets [${begin}, ${end}] run past the end of the data section (${dataSize} bytes): the file is truncated or its header lies about sizes`,
    );
  }
  return { name, dtype, shape: shape as number[], file, byteOffset: dataStart + begin, byteLength: needed };
}

function checkNoOverlap(tensors: TensorEntry[], file: string, dataStart: number): void {
  const sorted = tensors.filter((t) => t.byteLength > 0).sort((a, b) => a.byteOffset - b.byteOffset);
  for (let i = 1; i < sorted.length; i++) {
    const prev = sorted[i - 1];
    const cur = sorted[i];
    if (cur.byteOffset < prev.byteOffset + prev.byteLength) {
      const range = (t: TensorEntry) => `[${t.byteOffset - dataStart}, ${t.byteOffset - dataStart + t.byteLength}]`;
      throw formatError(
        `tensors "${prev.name}" ${range(prev)} and "${cur.name}" ${range(cur)} overlap in the data section`,
        { file },
      );
    }
  }
}

/** Reads `bytes.length` bytes at `position`, in chunks (readSync caps one call near 2 GiB). */
export function readFully(fd: number, bytes: Uint8Array, position: number, file: string): void {
  const chunk = 1 << 30;
  let done = 0;
  while (done < bytes.length) {
    const n = readSync(fd, bytes, done, Math.min(chunk, bytes.length - done), position + done);
    if (n === 0)
      throw formatError(`unexpected end of file at byte ${position + done} (the file shrank while being read?)`, {
        file,
      });
    done += n;
  }
}

/** Reads one tensor as float32. Non-float dtypes (I64, BOOL, ...) are refused, naming the tensor. */
export function readTensor(entry: TensorEntry): WeightTensor {
  if (!FLOAT_DTYPES.includes(entry.dtype)) {
    throw formatError(
      `tensor "${entry.name}" has dtype ${entry.dtype}; only floating-point tensors (${FLOAT_DTYPES.join(', ')}) can be loaded as weights`,
      { file: entry.file },
    );
  }
  const count = numElements(entry.shape);
  const out = new Float32Array(count);
  const fd = openSync(entry.file, 'r');
  try {
    if (entry.dtype === 'F32') {
      readFully(fd, new Uint8Array(out.buffer), entry.byteOffset, entry.file);
    } else if (entry.dtype === 'F64') {
      const raw = new Float64Array(count);
      readFully(fd, new Uint8Array(raw.buffer), entry.byteOffset, entry.file);
      out.set(raw);
    } else {
      const raw = new Uint16Array(count);
      readFully(fd, new Uint8Array(raw.buffer), entry.byteOffset, entry.file);
      if (entry.dtype === 'F16') float16ToFloat32(raw, out);
      else bfloat16ToFloat32(raw, out);
    }
  } finally {
    closeSync(fd);
  }
  return { shape: [...entry.shape], data: out };
}

export interface ReadAllOptions {
  /** read only the tensors this accepts */
  filter?: (name: string) => boolean;
  onProgress?: (p: { done: number; total: number; name: string }) => void;
}

/**
 * A safetensors checkpoint: one file, or shards listed by `model.safetensors.index.json`.
 * Opening reads and checks every header; tensors are read on demand.
 */
export class SafetensorsCheckpoint {
  readonly tensors = new Map<string, TensorEntry>();
  readonly metadata: Record<string, string> = {};

  private constructor(
    readonly files: string[],
    headers: SafetensorsHeader[],
  ) {
    for (const header of headers) {
      Object.assign(this.metadata, header.metadata);
      for (const entry of header.tensors) {
        const previous = this.tensors.get(entry.name);
        if (previous)
          throw formatError(`tensor "${entry.name}" is in two shards (also in ${previous.file})`, { file: entry.file });
        this.tensors.set(entry.name, entry);
      }
    }
  }

  /** `path`: a .safetensors file, a model.safetensors.index.json, or a directory holding either. */
  static open(path: string): SafetensorsCheckpoint {
    if (!existsSync(path)) throw inputError('file not found', { file: path });
    if (statSync(path).isDirectory()) return SafetensorsCheckpoint.open(findCheckpointFile(path));
    if (path.endsWith('.json')) return SafetensorsCheckpoint.openIndex(path);
    return new SafetensorsCheckpoint([path], [readSafetensorsHeader(path)]);
  }

  private static openIndex(indexPath: string): SafetensorsCheckpoint {
    let index: unknown;
    try {
      index = JSON.parse(readFileSync(indexPath, 'utf8'));
    } catch (e) {
      throw formatError(`malformed JSON (${(e as Error).message})`, { file: indexPath });
    }
    const weightMap = (index as { weight_map?: unknown } | null)?.weight_map;
    if (typeof weightMap !== 'object' || weightMap === null || Array.isArray(weightMap)) {
      throw formatError('expected an object mapping tensor names to shard files', {
        file: indexPath,
        field: 'weight_map',
      });
    }
    const shardOf = new Map<string, string>();
    for (const [name, shard] of Object.entries(weightMap)) {
      if (typeof shard !== 'string')
        throw formatError(`tensor "${name}": expected a shard file name, got ${JSON.stringify(shard)}`, {
          file: indexPath,
          field: 'weight_map',
        });
      shardOf.set(name, shard);
    }
    const shardNames = [...new Set(shardOf.values())];
    const shardPaths = shardNames.map((shard) => {
      const shardPath = resolve(dirname(indexPath), shard);
      if (!existsSync(shardPath))
        throw formatError(`weight_map names shard "${shard}", which does not exist in ${dirname(indexPath)}`, {
          file: indexPath,
        });
      return shardPath;
    });
    const headers = shardPaths.map(readSafetensorsHeader);
    const checkpoint = new SafetensorsCheckpoint(shardPaths, headers);
    for (const [name, shard] of shardOf) {
      const entry = checkpoint.tensors.get(name);
      if (!entry || resolve(entry.file) !== resolve(dirname(indexPath), shard)) {
        throw formatError(`weight_map puts tensor "${name}" in shard "${shard}", which does not contain it`, {
          file: indexPath,
        });
      }
    }
    return checkpoint;
  }

  shapes(): Map<string, number[]> {
    return new Map([...this.tensors].map(([name, entry]) => [name, [...entry.shape]]));
  }

  read(name: string): WeightTensor {
    const entry = this.tensors.get(name);
    if (!entry) throw inputError(`no tensor named "${name}" in this checkpoint`, { file: this.files[0] });
    return readTensor(entry);
  }

  readAll(options: ReadAllOptions = {}): Weights {
    const names = [...this.tensors.keys()].filter((name) => !options.filter || options.filter(name));
    const weights: Weights = new Map();
    names.forEach((name, i) => {
      weights.set(name, this.read(name));
      options.onProgress?.({ done: i + 1, total: names.length, name });
    });
    return weights;
  }
}

/** The checkpoint file in a directory: the index if sharded, else model.safetensors, else the only *.safetensors. */
export function findCheckpointFile(dir: string): string {
  if (existsSync(join(dir, INDEX_FILE_NAME))) return join(dir, INDEX_FILE_NAME);
  if (existsSync(join(dir, SINGLE_FILE_NAME))) return join(dir, SINGLE_FILE_NAME);
  const candidates = readdirSync(dir).filter((f) => f.endsWith('.safetensors'));
  if (candidates.length === 1) return join(dir, candidates[0]);
  throw inputError(
    candidates.length === 0
      ? `no ${SINGLE_FILE_NAME} or ${INDEX_FILE_NAME} in this directory`
      : `several .safetensors files (${candidates.join(', ')}) and no ${INDEX_FILE_NAME} saying how they fit together`,
    { file: dir },
  );
}

/** Reads a whole checkpoint (file, index or directory) as float32. */
export function readSafetensors(path: string, options: ReadAllOptions = {}): Weights {
  return SafetensorsCheckpoint.open(path).readAll(options);
}

export interface WriteOptions {
  /** dtype on disk (default F32); memory stays float32 */
  dtype?: SaveDtype;
  /** extra `__metadata__` entries; `format: "pt"` is always written */
  metadata?: Record<string, string>;
}

const SAVE_BYTES: Record<SaveDtype, number> = { F32: 4, F16: 2, BF16: 2 };

function tensorBytes(tensor: WeightTensor, dtype: SaveDtype): Uint8Array {
  if (dtype === 'F32') return new Uint8Array(tensor.data.buffer, tensor.data.byteOffset, tensor.data.byteLength);
  const half = dtype === 'F16' ? float32ToFloat16(tensor.data) : float32ToBfloat16(tensor.data);
  return new Uint8Array(half.buffer);
}

/**
 * Writes one safetensors file atomically (temp file, fsync, rename), streaming tensor by tensor
 * so a large model is never held twice in memory (which writeFileAtomic's one buffer would need).
 */
export function writeSafetensors(path: string, weights: Weights, options: WriteOptions = {}): void {
  const dtype = options.dtype ?? 'F32';
  if (!(dtype in SAVE_BYTES))
    throw inputError(`cannot write dtype ${dtype} (expected F32, F16 or BF16)`, { file: path });
  const header: Record<string, unknown> = { __metadata__: { ...options.metadata, format: 'pt' } };
  let offset = 0;
  for (const [name, tensor] of weights) {
    if (tensor.data.length !== numElements(tensor.shape)) {
      throw inputError(`tensor "${name}" has ${tensor.data.length} values but shape ${formatShape(tensor.shape)}`, {
        file: path,
      });
    }
    const length = tensor.data.length * SAVE_BYTES[dtype];
    header[name] = { dtype, shape: tensor.shape, data_offsets: [offset, offset + length] };
    offset += length;
  }
  let headerJson = JSON.stringify(header);
  // pad with spaces so the data section starts 8-byte aligned, as the reference writer does
  headerJson += ' '.repeat((8 - ((8 + Buffer.byteLength(headerJson)) % 8)) % 8);
  const headerBytes = Buffer.from(headerJson, 'utf8');
  const lengthBytes = Buffer.alloc(8);
  lengthBytes.writeBigUInt64LE(BigInt(headerBytes.length));

  writeThroughAtomic(path, (fd) => {
    writeAll(fd, lengthBytes);
    writeAll(fd, headerBytes);
    for (const tensor of weights.values()) writeAll(fd, tensorBytes(tensor, dtype));
  });
}

export interface CheckpointWriteOptions extends WriteOptions {
  /** start a new shard before a shard would exceed this many bytes (default: never shard) */
  shardBytes?: number;
}

/**
 * Writes weights into `dir` as model.safetensors, or, above `shardBytes`, as
 * model-0000i-of-0000n.safetensors plus model.safetensors.index.json. Stale checkpoint files
 * from an earlier save are removed. Returns the file names written.
 */
export function writeSafetensorsCheckpoint(
  dir: string,
  weights: Weights,
  options: CheckpointWriteOptions = {},
): string[] {
  const dtype = options.dtype ?? 'F32';
  const bytesPer = SAVE_BYTES[dtype] ?? 4;
  const shardBytes = options.shardBytes ?? Infinity;
  if (!(shardBytes > 0)) throw inputError(`shardBytes must be positive, got ${shardBytes}`, { file: dir });
  const shards: Weights[] = [new Map()];
  let current = 0;
  for (const [name, tensor] of weights) {
    const size = tensor.data.length * bytesPer;
    if (current > 0 && current + size > shardBytes) {
      shards.push(new Map());
      current = 0;
    }
    shards[shards.length - 1].set(name, tensor);
    current += size;
  }
  const written: string[] = [];
  if (shards.length === 1) {
    writeSafetensors(join(dir, SINGLE_FILE_NAME), weights, options);
    written.push(SINGLE_FILE_NAME);
  } else {
    const pad = (i: number) => String(i).padStart(5, '0');
    const weightMap: Record<string, string> = {};
    let totalSize = 0;
    shards.forEach((shard, i) => {
      const fileName = `model-${pad(i + 1)}-of-${pad(shards.length)}.safetensors`;
      writeSafetensors(join(dir, fileName), shard, options);
      written.push(fileName);
      for (const [name, tensor] of shard) {
        weightMap[name] = fileName;
        totalSize += tensor.data.length * bytesPer;
      }
    });
    const sortedMap = Object.fromEntries(Object.entries(weightMap).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    writeJsonAtomic(join(dir, INDEX_FILE_NAME), { metadata: { total_size: totalSize }, weight_map: sortedMap });
    written.push(INDEX_FILE_NAME);
  }
  const checkpointFile = /^model(-\d{5}-of-\d{5})?\.safetensors(\.index\.json)?$/;
  for (const file of readdirSync(dir)) {
    if (checkpointFile.test(file) && !written.includes(file)) unlinkSync(join(dir, file));
  }
  return written;
}
