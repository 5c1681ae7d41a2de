/**
 * Operator constructors with shape inference. Every function adds one ONNX node (or a short
 * fixed composition) to the graph of its inputs.
 */
import { OnnxDataType, type DType } from './onnx-proto.ts';
import { Graph, type Dim, type Shape, type Value } from './graph.ts';
import { AlignkitError } from '../errors.ts';

const bug = (msg: string) => new AlignkitError('internal', msg);

export function broadcastShapes(a: Shape, b: Shape): Shape {
  const n = Math.max(a.length, b.length);
  const out: Shape = [];
  for (let i = 0; i < n; i++) {
    const x: Dim = a[a.length - n + i] ?? 1;
    const y: Dim = b[b.length - n + i] ?? 1;
    if (x === 1) out.push(y);
    else if (y === 1) out.push(x);
    else if (typeof x === 'number' && typeof y === 'number' && x !== y)
      throw bug(`cannot broadcast [${a}] with [${b}]`);
    else out.push(typeof x === 'number' ? x : y);
  }
  return out;
}

const normAxis = (axis: number, rank: number) => (axis < 0 ? axis + rank : axis);

export class Ops {
  constructor(readonly g: Graph) {}

  private unary(op: string, x: Value, attrs = {}): Value {
    return this.g.node(op, [x], attrs, [{ dtype: x.dtype, shape: [...x.shape] }])[0];
  }

  private binary(op: string, a: Value, b: Value, dtype?: DType): Value {
    return this.g.node(op, [a, b], {}, [{ dtype: dtype ?? a.dtype, shape: broadcastShapes(a.shape, b.shape) }])[0];
  }

  scalar(x: number, dtype: DType = 'float32'): Value {
    return this.g.constant([x], dtype, []);
  }
  ints(xs: readonly number[]): Value {
    return this.g.constant(xs, 'int64', [xs.length]);
  }

  add(a: Value, b: Value): Value {
    return this.binary('Add', a, b);
  }
  sub(a: Value, b: Value): Value {
    return this.binary('Sub', a, b);
  }
  mul(a: Value, b: Value): Value {
    return this.binary('Mul', a, b);
  }
  div(a: Value, b: Value): Value {
    return this.binary('Div', a, b);
  }
  pow(a: Value, b: Value): Value {
    return this.binary('Pow', a, b);
  }
  equal(a: Value, b: Value): Value {
    return this.binary('Equal', a, b, 'bool');
  }
  less(a: Value, b: Value): Value {
    return this.binary('Less', a, b, 'bool');
  }
  greater(a: Value, b: Value): Value {
    return this.binary('Greater', a, b, 'bool');
  }
  and(a: Value, b: Value): Value {
    return this.binary('And', a, b, 'bool');
  }
  max(a: Value, b: Value): Value {
    return this.binary('Max', a, b);
  }
  min(a: Value, b: Value): Value {
    return this.binary('Min', a, b);
  }
  neg(x: Value): Value {
    return this.unary('Neg', x);
  }
  exp(x: Value): Value {
    return this.unary('Exp', x);
  }
  log(x: Value): Value {
    return this.unary('Log', x);
  }
  sqrt(x: Value): Value {
    return this.unary('Sqrt', x);
  }
  reciprocal(x: Value): Value {
    return this.unary('Reciprocal', x);
  }
  sigmoid(x: Value): Value {
    return this.unary('Sigmoid', x);
  }
  tanh(x: Value): Value {
    return this.unary('Tanh', x);
  }
  erf(x: Value): Value {
    return this.unary('Erf', x);
  }
  relu(x: Value): Value {
    return this.unary('Relu', x);
  }
  /** log(1 + exp(x)), computed stably by onnxruntime */
  softplus(x: Value): Value {
    return this.unary('Softplus', x);
  }
  identity(x: Value): Value {
    return this.unary('Identity', x);
  }
  softmax(x: Value, axis = -1): Value {
    return this.unary('Softmax', x, { axis: { kind: 'int', value: axis } });
  }
  logSoftmax(x: Value, axis = -1): Value {
    return this.unary('LogSoftmax', x, { axis: { kind: 'int', value: axis } });
  }

  cast(x: Value, to: DType): Value {
    const code = OnnxDataType[to];
    return this.g.node('Cast', [x], { to: { kind: 'int', value: code } }, [{ dtype: to, shape: [...x.shape] }])[0];
  }

  where(cond: Value, a: Value, b: Value): Value {
    return this.g.node('Where', [cond, a, b], {}, [
      { dtype: a.dtype, shape: broadcastShapes(cond.shape, broadcastShapes(a.shape, b.shape)) },
    ])[0];
  }

  matmul(a: Value, b: Value): Value {
    if (a.shape.length < 1 || b.shape.length < 2) throw bug('matmul needs rank ≥ 2 on the right');
    const batch = broadcastShapes(a.shape.slice(0, -2), b.shape.slice(0, -2));
    const shape =
      a.shape.length === 1
        ? [...batch, b.shape[b.shape.length - 1]]
        : [...batch, a.shape[a.shape.length - 2], b.shape[b.shape.length - 1]];
    return this.g.node('MatMul', [a, b], {}, [{ dtype: a.dtype, shape }])[0];
  }

  private reduce(op: string, x: Value, axes: readonly number[], keepdims: boolean): Value {
    const rank = x.shape.length;
    const ax = axes.map((a) => normAxis(a, rank));
    const shape: Shape = [];
    x.shape.forEach((d, i) => {
      if (!ax.includes(i)) shape.push(d);
      else if (keepdims) shape.push(1);
    });
    const keep = { keepdims: { kind: 'int' as const, value: keepdims ? 1 : 0 } };
    return this.g.node(op, [x, this.ints(axes)], keep, [{ dtype: x.dtype, shape }])[0];
  }

  reduceSum(x: Value, axes: readonly number[], keepdims = true): Value {
    return this.reduce('ReduceSum', x, axes, keepdims);
  }
  reduceMean(x: Value, axes: readonly number[], keepdims = true): Value {
    return this.reduce('ReduceMean', x, axes, keepdims);
  }
  reduceMax(x: Value, axes: readonly number[], keepdims = true): Value {
    return this.reduce('ReduceMax', x, axes, keepdims);
  }

  /** ONNX Reshape: 0 copies the input dim, -1 is inferred. */
  reshape(x: Value, dims: readonly number[]): Value {
    const shape: Shape = dims.map((d, i) => (d === 0 ? x.shape[i] : d === -1 ? `r${x.id}_${i}` : d));
    const known = x.shape.every((d) => typeof d === 'number');
    const minus = dims.indexOf(-1);
    if (minus >= 0 && known) {
      const total = (x.shape as number[]).reduce((p, d) => p * d, 1);
      const rest = shape.reduce<number>((p, d, i) => (i === minus ? p : p * (d as number)), 1);
      if (shape.every((d, i) => i === minus || typeof d === 'number')) shape[minus] = total / rest;
    } else if (minus >= 0) {
      // infer the -1 symbolically: x's dims over the others' ([B,T,H·hd] -> [B,T,-1,hd] gives H), a named dim
      // when one is left alone, otherwise the fresh name above
      const symbols = x.shape.filter((d): d is string => typeof d === 'string');
      let numeric = x.shape.reduce<number>((p, d) => (typeof d === 'number' ? p * d : p), 1);
      for (const d of shape.filter((_, i) => i !== minus)) {
        if (typeof d === 'number') numeric /= d;
        else if (symbols.includes(d)) symbols.splice(symbols.indexOf(d), 1);
        else numeric = NaN;
      }
      if (Number.isInteger(numeric) && symbols.length === 0) shape[minus] = numeric;
      else if (numeric === 1 && symbols.length === 1) shape[minus] = symbols[0];
    }
    return this.g.node('Reshape', [x, this.ints(dims)], {}, [{ dtype: x.dtype, shape }])[0];
  }

  /** Reshape to the runtime shape of another value. */
  reshapeLike(x: Value, like: Value): Value {
    return this.g.node('Reshape', [x, this.shapeOf(like)], {}, [{ dtype: x.dtype, shape: [...like.shape] }])[0];
  }

  shapeOf(x: Value): Value {
    return this.g.node('Shape', [x], {}, [{ dtype: 'int64', shape: [x.shape.length] }])[0];
  }

  expandLike(x: Value, like: Value): Value {
    return this.g.node('Expand', [x, this.shapeOf(like)], {}, [
      { dtype: x.dtype, shape: broadcastShapes(x.shape, like.shape) },
    ])[0];
  }

  transpose(x: Value, perm: readonly number[]): Value {
    return this.g.node('Transpose', [x], { perm: { kind: 'ints', value: perm } }, [
      { dtype: x.dtype, shape: perm.map((p) => x.shape[p]) },
    ])[0];
  }

  unsqueeze(x: Value, axes: readonly number[]): Value {
    const shape = [...x.shape];
    for (const a of [...axes].sort((p, q) => p - q)) shape.splice(normAxis(a, shape.length + 1), 0, 1);
    return this.g.node('Unsqueeze', [x, this.ints(axes)], {}, [{ dtype: x.dtype, shape }])[0];
  }

  squeeze(x: Value, axes: readonly number[]): Value {
    const ax = axes.map((a) => normAxis(a, x.shape.length));
    return this.g.node('Squeeze', [x, this.ints(axes)], {}, [
      { dtype: x.dtype, shape: x.shape.filter((_, i) => !ax.includes(i)) },
    ])[0];
  }

  concat(xs: readonly Value[], axis: number): Value {
    const rank = xs[0].shape.length;
    const ax = normAxis(axis, rank);
    const shape = [...xs[0].shape];
    const dims = xs.map((x) => x.shape[ax]);
    shape[ax] = dims.every((d) => typeof d === 'number')
      ? (dims as number[]).reduce((p, d) => p + d, 0)
      : `cat${xs[0].id}`;
    return this.g.node('Concat', xs, { axis: { kind: 'int', value: axis } }, [{ dtype: xs[0].dtype, shape }])[0];
  }

  /** Static slice along axes (ends may be large numbers meaning "to the end"). */
  slice(x: Value, starts: readonly number[], ends: readonly number[], axes: readonly number[]): Value {
    const shape = [...x.shape];
    axes.forEach((a, i) => {
      const ax = normAxis(a, shape.length);
      const d = shape[ax];
      if (typeof d === 'number') {
        const s = Math.max(0, starts[i] < 0 ? starts[i] + d : Math.min(starts[i], d));
        const e = Math.min(d, ends[i] < 0 ? ends[i] + d : ends[i]);
        shape[ax] = Math.max(0, e - s);
      } else shape[ax] = `sl${x.id}_${ax}`;
    });
    return this.g.node('Slice', [x, this.ints(starts), this.ints(ends), this.ints(axes)], {}, [
      { dtype: x.dtype, shape },
    ])[0];
  }

  /** Gather rows: data [N, ...] indexed by ids of any shape → [...ids.shape, ...]. */
  gather(data: Value, indices: Value, axis = 0): Value {
    const ax = normAxis(axis, data.shape.length);
    const shape = [...data.shape.slice(0, ax), ...indices.shape, ...data.shape.slice(ax + 1)];
    return this.g.node('Gather', [data, indices], { axis: { kind: 'int', value: axis } }, [
      { dtype: data.dtype, shape },
    ])[0];
  }

  gatherElements(data: Value, indices: Value, axis: number): Value {
    return this.g.node('GatherElements', [data, indices], { axis: { kind: 'int', value: axis } }, [
      { dtype: data.dtype, shape: [...indices.shape] },
    ])[0];
  }

  scatterElementsAdd(data: Value, indices: Value, updates: Value, axis: number): Value {
    return this.g.node(
      'ScatterElements',
      [data, indices, updates],
      { axis: { kind: 'int', value: axis }, reduction: { kind: 'string', value: 'add' } },
      [{ dtype: data.dtype, shape: [...data.shape] }],
    )[0];
  }

  /** Adds `updates` [...I, ...rest] into rows `indices` [...I, k] of data (duplicates accumulate). */
  scatterNDAdd(data: Value, indices: Value, updates: Value): Value {
    return this.g.node('ScatterND', [data, indices, updates], { reduction: { kind: 'string', value: 'add' } }, [
      { dtype: data.dtype, shape: [...data.shape] },
    ])[0];
  }

  /** Elementwise sum of any number of tensors (broadcasting), one pass. */
  sum(xs: readonly Value[]): Value {
    if (xs.length === 1) return xs[0];
    if (xs.length === 2) return this.add(xs[0], xs[1]);
    return this.g.node('Sum', xs, {}, [
      { dtype: xs[0].dtype, shape: xs.map((x) => x.shape).reduce(broadcastShapes) },
    ])[0];
  }

  /** Zero padding; `pads` is an int64 [2·rank] tensor (all begins, then all ends). */
  pad(x: Value, pads: Value, outShape: Shape): Value {
    return this.g.node('Pad', [x, pads], { mode: { kind: 'string', value: 'constant' } }, [
      { dtype: x.dtype, shape: outShape },
    ])[0];
  }

  /** Splits along `axis` into pieces of the sizes in the int64 [n] tensor `sizes`. */
  split(x: Value, sizes: Value, axis: number, pieceShapes: readonly Shape[]): Value[] {
    return this.g.node(
      'Split',
      [x, sizes],
      { axis: { kind: 'int', value: axis } },
      pieceShapes.map((shape) => ({ dtype: x.dtype, shape: [...shape] })),
    );
  }

  /**
   * ONNX Attention (opset 23): queries [B, T, H·hd] over cached keys/values [B, Hkv, C, hd] and
   * the new ones [B, T, Hkv·hd], with an additive bias broadcastable to [B, H, T, C+T]. Returns
   * [B, T, H·hd]. `logits.scale` replaces 1/√hd; `logits.softcap` c makes the scaled logits
   * c·tanh(x/c) before the bias is added (as Gemma 2). The concatenated cache outputs are
   * declared (onnxruntime's kernel needs them with a past) but not returned. One kernel instead of ~15 nodes per layer, but without a
   * gradient rule: inference graphs only.
   */
  attention(
    q: Value,
    k: Value,
    v: Value,
    bias: Value,
    pastK: Value,
    pastV: Value,
    numHeads: number,
    numKvHeads: number,
    logits: { scale?: number; softcap?: number } = {},
  ): Value {
    const cache = (of: Value) => ({ dtype: of.dtype, shape: [of.shape[0], of.shape[1], `kv${of.id}`, of.shape[3]] });
    const attrs: Record<string, { kind: 'int' | 'float'; value: number }> = {
      q_num_heads: { kind: 'int', value: numHeads },
      kv_num_heads: { kind: 'int', value: numKvHeads },
    };
    if (logits.scale !== undefined) attrs.scale = { kind: 'float', value: logits.scale };
    if (logits.softcap !== undefined) attrs.softcap = { kind: 'float', value: logits.softcap };
    return this.g.node('Attention', [q, k, v, bias, pastK, pastV], attrs, [
      { dtype: q.dtype, shape: [...q.shape] },
      cache(pastK),
      cache(pastV),
    ])[0];
  }

  /**
   * ONNX RotaryEmbedding (opset 23), rotating halves as HF does, on x [B, T, heads·hd] with
   * cos/sin tables [maxPositions, hd/2] and absolute positions [B, T]. Inference graphs only.
   */
  rotaryEmbedding(x: Value, cos: Value, sin: Value, positions: Value, numHeads: number): Value {
    return this.g.node('RotaryEmbedding', [x, cos, sin, positions], { num_heads: { kind: 'int', value: numHeads } }, [
      { dtype: x.dtype, shape: [...x.shape] },
    ])[0];
  }

  /** A zero tensor shaped like `like`. */
  zerosLike(like: Value): Value {
    return this.expandLike(this.scalar(0, like.dtype), like);
  }

  // ---- compositions used by the model builders ----

  /** x · W (+ b) with W laid out [in, out]. */
  affine(x: Value, weightInOut: Value, bias?: Value): Value {
    const y = this.matmul(x, weightInOut);
    return bias ? this.add(y, bias) : y;
  }

  // Norms are written in the exact op patterns onnxruntime fuses into one kernel
  // (SimplifiedLayerNormalization / LayerNormalization) while staying standard ONNX.
  rmsNorm(x: Value, weight: Value, eps: number): Value {
    const ms = this.reduceMean(this.pow(x, this.scalar(2)), [-1]);
    return this.mul(this.div(x, this.sqrt(this.add(ms, this.scalar(eps)))), weight);
  }

  layerNorm(x: Value, weight: Value, bias: Value, eps: number): Value {
    const centered = this.sub(x, this.reduceMean(x, [-1]));
    const variance = this.reduceMean(this.pow(centered, this.scalar(2)), [-1]);
    return this.add(this.mul(this.div(centered, this.sqrt(this.add(variance, this.scalar(eps)))), weight), bias);
  }

  silu(x: Value): Value {
    return this.mul(x, this.sigmoid(x));
  }

  /** GPT-2's tanh approximation ("gelu_new"). */
  geluTanh(x: Value): Value {
    const inner = this.mul(
      this.add(x, this.mul(this.mul(this.mul(x, x), x), this.scalar(0.044715))),
      this.scalar(Math.sqrt(2 / Math.PI)),
    );
    return this.mul(this.mul(x, this.scalar(0.5)), this.add(this.tanh(inner), this.scalar(1)));
  }
}
