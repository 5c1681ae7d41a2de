/**
 * The graph IR: values with a dtype and a (possibly symbolic) shape, and nodes that are ONNX
 * operators (standard domain, opset 23). Shapes are inferred as nodes are added so that
 * autodiff can undo broadcasting and the writer can declare outputs.
 */
import {
  encodeModel,
  type AttrValue,
  type DType,
  type LazyBytes,
  type NodeProto,
  type TensorValue,
  type ValueInfo,
} from './onnx-proto.ts';

export type { TensorValue };
import { AlignkitError } from '../errors.ts';

export type Dim = number | string;
export type Shape = Dim[];

export interface Value {
  readonly id: number;
  readonly name: string;
  readonly dtype: DType;
  readonly shape: Shape;
  /** the node that computes it; undefined for graph inputs and initializers */
  readonly producer?: GraphNode;
}

export interface GraphNode {
  readonly op: string;
  /** operator domain: '' (standard ONNX) or CONTRIB_DOMAIN (onnxruntime's com.microsoft kernels) */
  readonly domain: string;
  readonly inputs: readonly Value[];
  readonly outputs: readonly Value[];
  readonly attrs: Record<string, AttrValue>;
}

export const OPSET = 23;
/** onnxruntime's contrib operators (inference graphs only: they have no gradient rules). */
export const CONTRIB_DOMAIN = 'com.microsoft';

export class Graph {
  readonly name: string;
  readonly inputs: Value[] = [];
  readonly outputs: { value: Value; name: string }[] = [];
  readonly nodes: GraphNode[] = [];
  readonly initializers = new Map<number, TensorValue>();
  /** onnxruntime session settings the graph needs (e.g. the arithmetic of fused quantized matmuls) */
  readonly sessionConfig = new Map<string, string>();
  private nextId = 0;
  private constantCache = new Map<string, Value>();

  constructor(name: string) {
    this.name = name;
  }

  private newValue(name: string, dtype: DType, shape: Shape, producer?: GraphNode): Value {
    const id = this.nextId++;
    return { id, name: `${name}_${id}`, dtype, shape, producer };
  }

  input(name: string, dtype: DType, shape: Shape): Value {
    if (this.inputs.some((v) => v.name === name)) throw new AlignkitError('internal', `duplicate graph input ${name}`);
    const v: Value = { id: this.nextId++, name, dtype, shape };
    this.inputs.push(v);
    return v;
  }

  /**
   * An initializer (weights of inference graphs, constants). Lazy bytes are made only when the
   * graph is written (see session.ts: one weight at a time into the external data file).
   */
  tensor(name: string, dtype: DType, dims: readonly number[], data: ArrayBufferView | LazyBytes): Value {
    const v = this.newValue(name, dtype, [...dims]);
    this.initializers.set(v.id, {
      name: v.name,
      dtype,
      dims,
      data: ArrayBuffer.isView(data) ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength) : data,
    });
    return v;
  }

  /** A small constant, deduplicated by content. */
  constant(
    values: readonly number[],
    dtype: DType = 'float32',
    dims: readonly number[] = values.length === 1 ? [] : [values.length],
  ): Value {
    const key = `${dtype}|${dims.join(',')}|${values.join(',')}`;
    const hit = this.constantCache.get(key);
    if (hit) return hit;
    let data: ArrayBufferView;
    if (dtype === 'float32') data = Float32Array.from(values);
    else if (dtype === 'int64') data = BigInt64Array.from(values.map((x) => BigInt(x)));
    else if (dtype === 'int32') data = Int32Array.from(values);
    else if (dtype === 'bool') data = Uint8Array.from(values);
    else throw new AlignkitError('internal', `constant of dtype ${dtype}`);
    const v = this.tensor('const', dtype, dims, data);
    this.constantCache.set(key, v);
    return v;
  }

  /**
   * A placeholder for an optional operator input that is left out (written as an empty name);
   * only contrib operators, whose optional inputs sit between required ones, need it.
   */
  readonly absent: Value = { id: -1, name: '', dtype: 'float32', shape: [] };

  /** Adds a node; `outputs` gives the dtype and shape of each output (see ops.ts for inference). */
  node(
    op: string,
    inputs: readonly Value[],
    attrs: Record<string, AttrValue>,
    outputs: readonly { dtype: DType; shape: Shape }[],
    domain = '',
  ): Value[] {
    const outs: Value[] = [];
    const node: GraphNode = { op, domain, inputs: [...inputs], outputs: outs, attrs };
    for (const o of outputs) outs.push(this.newValue(op.toLowerCase(), o.dtype, o.shape, node));
    this.nodes.push(node);
    return outs;
  }

  output(value: Value, name: string): void {
    this.outputs.push({ value, name });
  }

  isInitializer(v: Value): boolean {
    return this.initializers.has(v.id);
  }

  /** Total bytes of the initializers (weights and constants). */
  initializerBytes(): number {
    let n = 0;
    for (const t of this.initializers.values()) n += t.data.byteLength;
    return n;
  }

  /**
   * Serializes to ONNX bytes. A graph output takes over the name of the value it exposes when
   * that value is computed by a node and exposed once; otherwise an Identity node renames it.
   */
  toOnnx(external?: (t: TensorValue) => TensorValue['external']): Uint8Array {
    const exposures = new Map<number, number>();
    for (const { value } of this.outputs) exposures.set(value.id, (exposures.get(value.id) ?? 0) + 1);
    const rename = new Map<number, string>();
    for (const { value, name } of this.outputs)
      if (value.producer && exposures.get(value.id) === 1) rename.set(value.id, name);
    const nameOf = (v: Value) => rename.get(v.id) ?? v.name;
    const nodes: NodeProto[] = this.nodes.map((n, i) => ({
      op: n.op,
      domain: n.domain,
      name: `${n.op}_${i}`,
      attrs: n.attrs,
      inputs: n.inputs.map(nameOf),
      outputs: n.outputs.map(nameOf),
    }));
    let unknown = 0;
    const info = (name: string, v: Value): ValueInfo => ({
      name,
      dtype: v.dtype,
      shape: v.shape.map((d) => (typeof d === 'number' && d >= 0 ? d : typeof d === 'string' ? d : `unk_${unknown++}`)),
    });
    const outputs = this.outputs.map(({ value, name }) => {
      if (!rename.has(value.id))
        nodes.push({
          op: 'Identity',
          domain: '',
          name: `out_${name}`,
          attrs: {},
          inputs: [value.name],
          outputs: [name],
        });
      return info(name, value);
    });
    return encodeModel({
      name: this.name,
      nodes,
      opsets: this.nodes.some((n) => n.domain === CONTRIB_DOMAIN) ? { '': OPSET, [CONTRIB_DOMAIN]: 1 } : { '': OPSET },
      inputs: this.inputs.map((v) => info(v.name, v)),
      outputs,
      initializers: [...this.initializers.values()].map((t) => {
        const location = external?.(t);
        return location ? { ...t, external: location } : t;
      }),
    });
  }
}
