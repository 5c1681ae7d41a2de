import { Graph, type Value } from '../../src/engine/graph.ts';
import { Ops } from '../../src/engine/ops.ts';
import { GraphSession, type TensorData } from '../../src/engine/session.ts';
import { createRng } from '../../src/util/random.ts';

export interface HarnessInput {
  shape: number[];
  data: TensorData;
}

/** Builds a one-output graph over the given inputs, runs it on onnxruntime, returns the output. */
export async function runGraph(
  inputs: Record<string, HarnessInput>,
  build: (o: Ops, v: Record<string, Value>) => Value,
): Promise<{ dims: readonly number[]; data: TensorData }> {
  return (await runGraphOutputs(inputs, (o, v) => ({ y: build(o, v) }))).y;
}

/**
 * Builds a graph with the named outputs over the given inputs (first dimension symbolic) and
 * runs it once; `into` binds outputs to caller buffers (see GraphSession.run).
 */
export async function runGraphOutputs(
  inputs: Record<string, HarnessInput>,
  build: (o: Ops, v: Record<string, Value>) => Record<string, Value>,
  into: Record<string, HarnessInput> = {},
): Promise<Record<string, { dims: readonly number[]; data: TensorData }>> {
  const g = new Graph('harness');
  const o = new Ops(g);
  const values: Record<string, Value> = {};
  for (const [name, inp] of Object.entries(inputs)) {
    const dtype =
      inp.data instanceof Float32Array
        ? 'float32'
        : inp.data instanceof BigInt64Array
          ? 'int64'
          : inp.data instanceof Int32Array
            ? 'int32'
            : 'bool';
    values[name] = g.input(
      name,
      dtype,
      inp.shape.map((d, i) => (i === 0 ? 'B' + name : d)),
    );
  }
  const outputs = build(o, values);
  for (const [name, v] of Object.entries(outputs)) g.output(v, name);
  const session = await GraphSession.create(g, 'harness');
  const feeds: Record<string, { dims: number[]; data: TensorData }> = {};
  for (const [name, inp] of Object.entries(inputs)) feeds[name] = { dims: inp.shape, data: inp.data };
  const bound: Record<string, { dims: number[]; data: TensorData }> = {};
  for (const [name, inp] of Object.entries(into)) bound[name] = { dims: inp.shape, data: inp.data };
  const wanted = Object.keys(outputs).filter((name) => !(name in into));
  const out = await session.run(feeds, wanted, bound);
  await session.release();
  return out;
}

export function randomFloats(n: number, seed: number, scale = 1): Float32Array {
  const rng = createRng(seed);
  return Float32Array.from({ length: n }, () => rng.normal() * scale);
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}
