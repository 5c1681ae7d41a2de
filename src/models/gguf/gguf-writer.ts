/**
 * Writing a GGUF v3 file: header, metadata, tensor infos, then each tensor's data at an aligned
 * offset. Tensors are produced and written one at a time (a model is never encoded whole in
 * memory), into a temporary file renamed into place at the end, so a failed or killed write
 * leaves the previous file or none.
 */
import { writeAll, writeThroughAtomic } from '../../util/atomic-write.ts';
import { alignUp, DEFAULT_ALIGNMENT, GGUF_MAGIC, GgufValueType, type GgufEntry } from './gguf-file.ts';
import { ggmlType, tensorBytes, type GgmlTypeName } from './ggml-types.ts';

export interface TensorToWrite {
  name: string;
  /** ggml order (row length first) */
  dims: number[];
  type: GgmlTypeName;
  /** produces the tensor's bytes when it is its turn to be written */
  encode: () => Uint8Array;
}

/** Metadata entries with their GGUF types spelled out. */
export const gguf = {
  u32: (value: number): GgufEntry => ({ type: GgufValueType.UINT32, value }),
  i32: (value: number): GgufEntry => ({ type: GgufValueType.INT32, value }),
  f32: (value: number): GgufEntry => ({ type: GgufValueType.FLOAT32, value }),
  bool: (value: boolean): GgufEntry => ({ type: GgufValueType.BOOL, value }),
  string: (value: string): GgufEntry => ({ type: GgufValueType.STRING, value }),
  strings: (value: string[]): GgufEntry => ({ type: GgufValueType.ARRAY, itemType: GgufValueType.STRING, value }),
  f32s: (value: ArrayLike<number>): GgufEntry => ({
    type: GgufValueType.ARRAY,
    itemType: GgufValueType.FLOAT32,
    value: Float32Array.from(value),
  }),
  i32s: (value: ArrayLike<number>): GgufEntry => ({
    type: GgufValueType.ARRAY,
    itemType: GgufValueType.INT32,
    value: Int32Array.from(value),
  }),
};

export function writeGgufFile(
  file: string,
  metadata: ReadonlyMap<string, GgufEntry>,
  tensors: readonly TensorToWrite[],
  alignment = DEFAULT_ALIGNMENT,
): void {
  const head = new ByteWriter();
  head.raw(Buffer.from(GGUF_MAGIC, 'latin1'));
  head.u32(3);
  head.u64(tensors.length);
  const entries = new Map(metadata);
  if (alignment !== DEFAULT_ALIGNMENT) entries.set('general.alignment', gguf.u32(alignment));
  head.u64(entries.size);
  for (const [key, entry] of entries) {
    head.string(key);
    head.u32(entry.type);
    head.value(entry);
  }
  let offset = 0;
  const offsets: number[] = [];
  for (const t of tensors) {
    const bytes = tensorBytes(
      ggmlType(t.type),
      t.dims[0],
      t.dims.reduce((a, b) => a * b, 1),
    );
    if (bytes === null) throw new RangeError(`${t.name}: rows of ${t.dims[0]} are not whole ${t.type} blocks`);
    head.string(t.name);
    head.u32(t.dims.length);
    for (const d of t.dims) head.u64(d);
    head.u32(ggmlType(t.type).id);
    head.u64(offset);
    offsets.push(offset);
    offset = alignUp(offset + bytes, alignment);
  }
  head.raw(new Uint8Array(alignUp(head.length, alignment) - head.length));

  writeThroughAtomic(file, (fd) => {
    writeAll(fd, head.bytes());
    let written = 0;
    tensors.forEach((t, i) => {
      const data = t.encode();
      const expected = tensorBytes(
        ggmlType(t.type),
        t.dims[0],
        t.dims.reduce((a, b) => a * b, 1),
      );
      if (data.length !== expected)
        throw new RangeError(`${t.name}: encoded ${data.length} bytes, expected ${expected} for ${t.type}`);
      if (written !== offsets[i]) writeAll(fd, new Uint8Array(offsets[i] - written));
      writeAll(fd, data);
      written = offsets[i] + data.length;
    });
    if (written !== offset) writeAll(fd, new Uint8Array(offset - written));
  });
}

/** A growable little-endian byte buffer for the header. */
class ByteWriter {
  private chunks: Uint8Array[] = [];
  length = 0;

  raw(b: Uint8Array): void {
    this.chunks.push(b);
    this.length += b.length;
  }

  private scalar(size: number, write: (b: Buffer) => void): void {
    const b = Buffer.alloc(size);
    write(b);
    this.raw(b);
  }

  u32 = (v: number) => this.scalar(4, (b) => b.writeUInt32LE(v));
  u64 = (v: number | bigint) => this.scalar(8, (b) => b.writeBigUInt64LE(BigInt(v)));

  string(s: string): void {
    const b = Buffer.from(s, 'utf8');
    this.u64(b.length);
    this.raw(b);
  }

  value(entry: GgufEntry): void {
    const { type, value } = entry;
    if (type === GgufValueType.ARRAY) {
      const items = value as ArrayLike<unknown>;
      this.u32(entry.itemType!);
      this.u64(items.length);
      if (ArrayBuffer.isView(items)) {
        const view = items as unknown as Uint8Array;
        this.raw(new Uint8Array(view.buffer.slice(view.byteOffset, view.byteOffset + view.byteLength)));
      } else {
        for (const item of items as GgufEntry['value'][]) this.value({ type: entry.itemType!, value: item });
      }
      return;
    }
    if (type === GgufValueType.STRING) return this.string(value as string);
    const n = value as number;
    switch (type) {
      case GgufValueType.UINT8:
        return this.scalar(1, (b) => b.writeUInt8(n));
      case GgufValueType.INT8:
        return this.scalar(1, (b) => b.writeInt8(n));
      case GgufValueType.BOOL:
        return this.scalar(1, (b) => b.writeUInt8(value ? 1 : 0));
      case GgufValueType.UINT16:
        return this.scalar(2, (b) => b.writeUInt16LE(n));
      case GgufValueType.INT16:
        return this.scalar(2, (b) => b.writeInt16LE(n));
      case GgufValueType.UINT32:
        return this.u32(n);
      case GgufValueType.INT32:
        return this.scalar(4, (b) => b.writeInt32LE(n));
      case GgufValueType.FLOAT32:
        return this.scalar(4, (b) => b.writeFloatLE(n));
      case GgufValueType.FLOAT64:
        return this.scalar(8, (b) => b.writeDoubleLE(n));
      case GgufValueType.UINT64:
        return this.u64(value as number | bigint);
      case GgufValueType.INT64:
        return this.scalar(8, (b) => b.writeBigInt64LE(BigInt(value as number | bigint)));
    }
  }

  bytes(): Uint8Array {
    return Buffer.concat(this.chunks);
  }
}
