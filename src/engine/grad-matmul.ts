/** The MatMul gradient, with batch broadcasting; a 2-D weight's gradient is one GEMM over all rows. */
import type { GradRules } from './grad-rule.ts';
import type { Value } from './graph.ts';
import type { Ops } from './ops.ts';
import { gradBug, swapLast, unbroadcast } from './grad-helpers.ts';

/** x [..., K] as [rows, K]. */
function rowsOf(o: Ops, x: Value): Value {
  const k = x.shape[x.shape.length - 1];
  if (typeof k === 'number') return o.reshape(x, [-1, k]);
  const lastDim = o.slice(o.shapeOf(x), [-1], [Number.MAX_SAFE_INTEGER], [0]);
  return o.g.node('Reshape', [x, o.concat([o.ints([-1]), lastDim], 0)], {}, [
    { dtype: x.dtype, shape: [`rows${x.id}`, k] },
  ])[0];
}

export const matmulRules: GradRules = {
  MatMul: {
    grad: ({ o, node, dy, needs }) => {
      const [a, b] = node.inputs;
      const g = dy[0];
      if (!g) return [null, null];
      if (a.shape.length < 2 || b.shape.length < 2) throw gradBug('MatMul gradients need operands of rank ≥ 2');
      const da = needs[0] ? unbroadcast(o, o.matmul(g, swapLast(o, b)), a) : null;
      let db: Value | null = null;
      if (needs[1]) {
        db =
          b.shape.length === 2 && a.shape.length > 2
            ? o.matmul(swapLast(o, rowsOf(o, a)), rowsOf(o, g))
            : unbroadcast(o, o.matmul(swapLast(o, a), g), b);
      }
      return [da, db];
    },
  },
};
