/**
 * Helpers shared by the gradient rules: reading constant inputs, undoing broadcasting, and
 * transposes that cancel or fold into matmuls as they are emitted (so autodiff never writes a
 * transpose of a transpose, and the gradient of a weight fed as [out, in] and used transposed
 * comes out of one matmul).
 */
import type { Graph, GraphNode, Shape, Value } from './graph.ts';
import type { Ops } from './ops.ts';
import { AlignkitError } from '../errors.ts';

export const gradBug = (msg: string) => new AlignkitError('internal', `autodiff: ${msg}`);

/** The numbers of a constant (initializer) value, or undefined when it is computed or fed. */
export function constantValues(g: Graph, v: Value): number[] | undefined {
  const t = g.initializers.get(v.id);
  if (!t || !(t.data instanceof Uint8Array)) return undefined;
  const bytes = t.data;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: number[] = [];
  if (t.dtype === 'float32') for (let i = 0; i < bytes.byteLength; i += 4) out.push(view.getFloat32(i, true));
  else if (t.dtype === 'int64')
    for (let i = 0; i < bytes.byteLength; i += 8) out.push(Number(view.getBigInt64(i, true)));
  else if (t.dtype === 'int32') for (let i = 0; i < bytes.byteLength; i += 4) out.push(view.getInt32(i, true));
  else return undefined;
  return out;
}

export function constantScalar(g: Graph, v: Value): number | undefined {
  const values = constantValues(g, v);
  return values && values.length === 1 ? values[0] : undefined;
}

export function intAttr(node: GraphNode, name: string, fallback: number): number {
  const a = node.attrs[name];
  return a && a.kind === 'int' ? a.value : fallback;
}

export function intsAttr(node: GraphNode, name: string): readonly number[] | undefined {
  const a = node.attrs[name];
  return a && a.kind === 'ints' ? a.value : undefined;
}

export const isFloat = (v: Value) => v.dtype === 'float32' || v.dtype === 'float16';

export function sameShape(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** Axes normalized to [0, rank). */
export const normalizeAxes = (axes: readonly number[], rank: number) => axes.map((a) => (a < 0 ? a + rank : a));

/**
 * Sums a gradient over the axes its value was broadcast along. Gradients may stay smaller than
 * their value (a [B,T,1] gradient of a [B,T,D] value broadcasts); `materialize` expands them
 * when a rule needs the exact shape.
 */
export function unbroadcast(o: Ops, grad: Value, target: Value): Value {
  let g = grad;
  const extra = g.shape.length - target.shape.length;
  if (extra > 0)
    g = o.reduceSum(
      g,
      Array.from({ length: extra }, (_, i) => i),
      false,
    );
  const axes: number[] = [];
  const offset = target.shape.length - g.shape.length;
  g.shape.forEach((d, i) => {
    if (target.shape[i + offset] === 1 && d !== 1) axes.push(i);
  });
  return axes.length ? o.reduceSum(g, axes, true) : g;
}

/** The gradient at exactly its value's shape. */
export function materialize(o: Ops, grad: Value, like: Value): Value {
  return sameShape(grad.shape, like.shape) ? grad : o.expandLike(grad, like);
}

export function inversePermutation(perm: readonly number[]): number[] {
  const inv = new Array<number>(perm.length);
  perm.forEach((p, i) => {
    inv[p] = i;
  });
  return inv;
}

const isIdentity = (perm: readonly number[]) => perm.every((p, i) => p === i);

/** The permutation a Transpose node applies (ONNX default: reverse the axes). */
export function transposePerm(node: GraphNode): readonly number[] {
  return intsAttr(node, 'perm') ?? node.inputs[0].shape.map((_, i, s) => s.length - 1 - i);
}

/**
 * x transposed by `perm`, simplified: a transpose of a transpose composes (and vanishes when the
 * result is the identity), and a product with its last two axes swapped, (P·Q)ᵀ, becomes Qᵀ·Pᵀ
 * (batch axes broadcast alike either way), so that onnxruntime fuses the remaining transposes
 * into the matmul instead of copying the product: a weight-sized gradient, or attention's key
 * gradient (Kᵀ's gradient Qᵀ·dS turned back into dSᵀ·Q).
 */
export function transposed(o: Ops, x: Value, perm: readonly number[]): Value {
  if (isIdentity(perm)) return x;
  const p = x.producer;
  if (p?.op === 'Transpose') {
    const inner = transposePerm(p);
    return transposed(
      o,
      p.inputs[0],
      perm.map((i) => inner[i]),
    );
  }
  if (p?.op === 'MatMul' && swapsLastTwo(perm) && p.inputs.every((v) => v.shape.length >= 2)) {
    return o.matmul(swapLast(o, p.inputs[1]), swapLast(o, p.inputs[0]));
  }
  return o.transpose(x, perm);
}

/** The permutation swaps the last two axes and keeps the others in place. */
const swapsLastTwo = (perm: readonly number[]) =>
  perm.length >= 2 && perm.every((axis, i) => (i < perm.length - 2 ? axis === i : axis === perm.length * 2 - 3 - i));

/** Swaps the last two axes. */
export function swapLast(o: Ops, x: Value): Value {
  const r = x.shape.length;
  return transposed(o, x, [...Array.from({ length: r - 2 }, (_, i) => i), r - 1, r - 2]);
}

/** Number of elements over `axes` of x, as a constant when the dims are known, else computed. */
export function elementCount(o: Ops, x: Value, axes: readonly number[]): Value {
  const dims = axes.map((a) => x.shape[a]);
  if (dims.every((d) => typeof d === 'number')) return o.scalar((dims as number[]).reduce((p, d) => p * d, 1));
  const sizes = o.gather(o.shapeOf(x), o.ints(axes));
  const count = o.g.node('ReduceProd', [sizes], { keepdims: { kind: 'int', value: 0 } }, [
    { dtype: 'int64', shape: [] },
  ])[0];
  return o.cast(count, 'float32');
}

/** The int64 [1] size of axis `axis` of x (constant when known). */
export function dimOf(o: Ops, x: Value, axis: number): Value {
  const d = x.shape[axis];
  return typeof d === 'number' ? o.ints([d]) : o.gather(o.shapeOf(x), o.ints([axis]));
}
