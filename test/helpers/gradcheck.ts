/**
 * Finite-difference checks of engine gradients. The loss is Σ y·R for a fixed random R, so every
 * output element matters; derivatives are central differences of that sum computed in float64
 * from onnxruntime's float32 outputs.
 */
import { Graph, type Value } from '../../src/engine/graph.ts';
import { Ops } from '../../src/engine/ops.ts';
import { gradients, pruneGraph } from '../../src/engine/autodiff.ts';
import { GraphSession, type TensorData } from '../../src/engine/session.ts';
import { createRng } from '../../src/util/random.ts';

export interface CheckInput {
  shape: number[];
  data: TensorData;
  /** dims given symbolic names in the graph (default: none) */
  symbolic?: number[];
  /** differentiate with respect to it (default: float inputs) */
  grad?: boolean;
}

export interface GradCheckResult {
  /** worst |analytic − numeric| / max(1, |numeric|) over checked entries */
  worst: number;
  where: string;
  checked: number;
}

const dtypeOf = (d: TensorData) =>
  d instanceof Float32Array
    ? 'float32'
    : d instanceof BigInt64Array
      ? 'int64'
      : d instanceof Int32Array
        ? 'int32'
        : 'bool';

export async function gradCheck(
  inputs: Record<string, CheckInput>,
  build: (o: Ops, v: Record<string, Value>) => Value,
  options: { h?: number; seed?: number; maxEntries?: number; ops?: (g: Graph) => Ops } = {},
): Promise<GradCheckResult> {
  const h = options.h ?? 1e-3;
  const names = Object.keys(inputs);
  const wrtNames = names.filter((n) => inputs[n].grad ?? inputs[n].data instanceof Float32Array);

  const make = (withGrads: boolean, yShape?: readonly number[]) => {
    const g = new Graph('gradcheck');
    const o = options.ops?.(g) ?? new Ops(g);
    const v: Record<string, Value> = {};
    for (const n of names) {
      const inp = inputs[n];
      v[n] = g.input(
        n,
        dtypeOf(inp.data),
        inp.shape.map((d, i) => (inp.symbolic?.includes(i) ? `${n}_d${i}` : d)),
      );
    }
    const y = build(o, v);
    g.output(y, '__out');
    if (withGrads) {
      const r = g.input('r', 'float32', [...yShape!]);
      const loss = o.reduceSum(
        o.mul(y, r),
        y.shape.map((_, i) => i),
        false,
      );
      const grads = gradients(
        o,
        loss,
        wrtNames.map((n) => v[n]),
      );
      grads.forEach((gr, i) => g.output(gr, `grad_${wrtNames[i]}`));
    }
    pruneGraph(g);
    return g;
  };

  const feedsOf = (data: Record<string, TensorData>) =>
    Object.fromEntries(names.map((n) => [n, { dims: inputs[n].shape, data: data[n] }]));
  const base = Object.fromEntries(names.map((n) => [n, inputs[n].data]));
  const fwd = await GraphSession.create(make(false), 'forward');
  const y0 = (await fwd.run(feedsOf(base), ['__out'])).__out;
  const rng = createRng(options.seed ?? 7);
  const r = Float32Array.from({ length: (y0.data as Float32Array).length }, () => rng.normal());
  const full = await GraphSession.create(make(true, y0.dims), 'gradients');
  const analytic = await full.run({ ...feedsOf(base), r: { dims: y0.dims, data: r } });

  const objective = async (data: Record<string, TensorData>) => {
    const y = (await fwd.run(feedsOf(data), ['__out'])).__out.data as Float32Array;
    let s = 0;
    for (let i = 0; i < y.length; i++) s += y[i] * r[i];
    return s;
  };

  let worst = 0,
    where = '',
    checked = 0;
  for (const n of wrtNames) {
    const x = inputs[n].data as Float32Array;
    const grad = analytic[`grad_${n}`].data as Float32Array;
    if (grad.length !== x.length) throw new Error(`gradient of ${n} has ${grad.length} entries, expected ${x.length}`);
    const count = Math.min(x.length, options.maxEntries ?? x.length);
    for (let k = 0; k < count; k++) {
      const i = count === x.length ? k : rng.int(x.length);
      const plus = Float32Array.from(x);
      plus[i] += h;
      const minus = Float32Array.from(x);
      minus[i] -= h;
      const numeric =
        ((await objective({ ...base, [n]: plus })) - (await objective({ ...base, [n]: minus }))) / (plus[i] - minus[i]);
      const err = Math.abs(grad[i] - numeric) / Math.max(1, Math.abs(numeric));
      checked++;
      if (err > worst) {
        worst = err;
        where = `${n}[${i}]: analytic ${grad[i]}, numeric ${numeric}`;
      }
    }
  }
  await fwd.release();
  await full.release();
  return { worst, where, checked };
}
