/**
 * A minimal protobuf encoder for the subset of onnx.proto the engine emits (ModelProto,
 * GraphProto, NodeProto, AttributeProto, TensorProto, ValueInfoProto). Field numbers follow
 * onnx/onnx.proto; only what the writer needs is here.
 */

class ProtoWriter {
  private chunks: Uint8Array[] = [];
  private scratch = new Uint8Array(10);
  length = 0;

  private push(bytes: Uint8Array): void {
    this.chunks.push(bytes);
    this.length += bytes.length;
  }

  varint(value: number | bigint): void {
    let v = BigInt.asUintN(64, BigInt(value));
    let n = 0;
    while (v >= 0x80n) {
      this.scratch[n++] = Number(v & 0x7fn) | 0x80;
      v >>= 7n;
    }
    this.scratch[n++] = Number(v);
    this.push(this.scratch.slice(0, n));
  }

  private tag(field: number, wire: number): void {
    this.varint((field << 3) | wire);
  }

  int(field: number, value: number | bigint): void {
    this.tag(field, 0);
    this.varint(value);
  }

  float(field: number, value: number): void {
    this.tag(field, 5);
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, value, true);
    this.push(b);
  }

  bytes(field: number, value: Uint8Array): void {
    this.tag(field, 2);
    this.varint(value.length);
    this.push(value);
  }

  string(field: number, value: string): void {
    this.bytes(field, new TextEncoder().encode(value));
  }

  message(field: number, build: (w: ProtoWriter) => void): void {
    const inner = new ProtoWriter();
    build(inner);
    this.tag(field, 2);
    this.varint(inner.length);
    for (const c of inner.chunks) this.push(c);
  }

  packedInts(field: number, values: readonly (number | bigint)[]): void {
    const inner = new ProtoWriter();
    for (const v of values) inner.varint(v);
    this.tag(field, 2);
    this.varint(inner.length);
    for (const c of inner.chunks) this.push(c);
  }

  finish(): Uint8Array {
    const out = new Uint8Array(this.length);
    let o = 0;
    for (const c of this.chunks) {
      out.set(c, o);
      o += c.length;
    }
    return out;
  }
}

/** ONNX TensorProto.DataType codes; uint4 packs two values a byte, the first in the low nibble. */
export const OnnxDataType = {
  float32: 1,
  uint8: 2,
  int8: 3,
  int32: 6,
  int64: 7,
  bool: 9,
  float16: 10,
  uint4: 21,
} as const;
export type DType = keyof typeof OnnxDataType;

export interface TensorValue {
  name: string;
  dtype: DType;
  dims: readonly number[];
  /** when set, the bytes live in an external data file at this offset (ONNX external data) */
  external?: { location: string; offset: number; length: number };
  /** raw little-endian bytes, or how to make them when the tensor is written (streamed weights) */
  data: Uint8Array | LazyBytes;
}

/** Bytes made only when needed, so a model's weights are never all in memory at once. */
export interface LazyBytes {
  readonly byteLength: number;
  /** the bytes, used (written out) before the next tensor's are produced: they may sit in a reused buffer */
  produce(): Uint8Array;
}

/** A tensor's bytes, made now if they are lazy (checked against the promised length). */
export function tensorBytes(t: TensorValue): Uint8Array {
  if (t.data instanceof Uint8Array) return t.data;
  const bytes = t.data.produce();
  if (bytes.byteLength !== t.data.byteLength)
    throw new Error(`initializer ${t.name}: produced ${bytes.byteLength} bytes, promised ${t.data.byteLength}`);
  return bytes;
}

export type AttrValue =
  | { kind: 'int'; value: number }
  | { kind: 'float'; value: number }
  | { kind: 'ints'; value: readonly number[] }
  | { kind: 'floats'; value: readonly number[] }
  | { kind: 'string'; value: string }
  | { kind: 'tensor'; value: TensorValue };

export interface NodeProto {
  op: string;
  inputs: readonly string[];
  outputs: readonly string[];
  name: string;
  attrs: Record<string, AttrValue>;
  /** '' or absent: the standard ONNX domain */
  domain?: string;
}

export interface ValueInfo {
  name: string;
  dtype: DType;
  /** a number is a fixed size, a string a symbolic dimension */
  shape: readonly (number | string)[];
}

export interface ModelSpec {
  name: string;
  nodes: readonly NodeProto[];
  inputs: readonly ValueInfo[];
  outputs: readonly ValueInfo[];
  initializers: readonly TensorValue[];
  /** operator set version by domain ('' = the standard ONNX domain) */
  opsets: Record<string, number>;
}

function writeTensor(w: ProtoWriter, t: TensorValue): void {
  w.packedInts(1, t.dims);
  w.int(2, OnnxDataType[t.dtype]);
  w.string(8, t.name);
  if (!t.external) {
    // the writer keeps the chunk until the model is joined; lazy bytes may sit in a reused buffer
    const bytes = tensorBytes(t);
    w.bytes(9, t.data instanceof Uint8Array ? bytes : bytes.slice());
    return;
  }
  const entry = (key: string, value: string) =>
    w.message(13, (e) => {
      e.string(1, key);
      e.string(2, value);
    });
  entry('location', t.external.location);
  entry('offset', String(t.external.offset));
  entry('length', String(t.external.length));
  w.int(14, 1); // data_location = EXTERNAL
}

function writeAttr(w: ProtoWriter, name: string, a: AttrValue): void {
  w.string(1, name);
  switch (a.kind) {
    case 'float':
      w.float(2, a.value);
      w.int(20, 1);
      break;
    case 'int':
      w.int(3, a.value);
      w.int(20, 2);
      break;
    case 'string':
      w.string(4, a.value);
      w.int(20, 3);
      break;
    case 'tensor':
      w.message(5, (t) => writeTensor(t, a.value));
      w.int(20, 4);
      break;
    case 'floats':
      for (const f of a.value) w.float(7, f);
      w.int(20, 6);
      break;
    case 'ints':
      w.packedInts(8, a.value);
      w.int(20, 7);
      break;
  }
}

function writeValueInfo(w: ProtoWriter, v: ValueInfo): void {
  w.string(1, v.name);
  w.message(2, (type) =>
    type.message(1, (tensor) => {
      tensor.int(1, OnnxDataType[v.dtype]);
      tensor.message(2, (shape) => {
        for (const d of v.shape) shape.message(1, (dim) => (typeof d === 'number' ? dim.int(1, d) : dim.string(2, d)));
      });
    }),
  );
}

export function encodeModel(spec: ModelSpec): Uint8Array {
  const w = new ProtoWriter();
  w.int(1, 10); // ir_version 10
  w.string(2, 'alignkit');
  for (const [domain, version] of Object.entries(spec.opsets))
    w.message(8, (o) => {
      o.string(1, domain);
      o.int(2, version);
    });
  w.message(7, (g) => {
    for (const n of spec.nodes) {
      g.message(1, (nw) => {
        for (const i of n.inputs) nw.string(1, i);
        for (const o of n.outputs) nw.string(2, o);
        nw.string(3, n.name);
        nw.string(4, n.op);
        for (const [k, a] of Object.entries(n.attrs)) nw.message(5, (aw) => writeAttr(aw, k, a));
        if (n.domain) nw.string(7, n.domain);
      });
    }
    g.string(2, spec.name);
    for (const t of spec.initializers) g.message(5, (tw) => writeTensor(tw, t));
    for (const v of spec.inputs) g.message(11, (vw) => writeValueInfo(vw, v));
    for (const v of spec.outputs) g.message(12, (vw) => writeValueInfo(vw, v));
  });
  return w.finish();
}
