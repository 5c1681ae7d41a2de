/** Gradient rules of ops that move data without arithmetic: reshapes, transposes, concat, slice, expand. */
import type { GradRule, GradRules } from './grad-rule.ts';
import {
  constantValues,
  dimOf,
  gradBug,
  intAttr,
  inversePermutation,
  normalizeAxes,
  transposed,
  transposePerm,
  unbroadcast,
} from './grad-helpers.ts';

/** Ops whose gradient is the upstream gradient reshaped back to the input. */
const reshapeBack: GradRule = {
  grad: ({ o, node, dy, needs }) =>
    node.inputs.map((x, i) => (i === 0 && needs[0] && dy[0] ? o.reshapeLike(dy[0], x) : null)),
};

export const shapeRules: GradRules = {
  Reshape: reshapeBack,
  Flatten: reshapeBack,
  Squeeze: reshapeBack,
  Unsqueeze: reshapeBack,

  Transpose: {
    grad: ({ o, node, dy, needs }) => [
      needs[0] && dy[0] ? transposed(o, dy[0], inversePermutation(transposePerm(node))) : null,
    ],
  },

  Expand: {
    broadcastable: true,
    grad: ({ o, node, dy, needs }) => [needs[0] && dy[0] ? unbroadcast(o, dy[0], node.inputs[0]) : null, null],
  },

  Concat: {
    grad: ({ o, node, dy, needs }) => {
      const g = dy[0];
      if (!g) return node.inputs.map(() => null);
      const rank = node.outputs[0].shape.length;
      const axis = normalizeAxes([intAttr(node, 'axis', 0)], rank)[0];
      const sizes = node.inputs.map((x) => x.shape[axis]);
      if (sizes.every((d) => typeof d === 'number')) {
        let start = 0;
        return node.inputs.map((_, i) => {
          const s = start;
          start += sizes[i] as number;
          return needs[i] ? o.slice(g, [s], [start], [axis]) : null;
        });
      }
      const pieces = o.split(
        g,
        o.concat(
          node.inputs.map((x) => dimOf(o, x, axis)),
          0,
        ),
        axis,
        node.inputs.map((x) => x.shape),
      );
      return pieces.map((p, i) => (needs[i] ? p : null));
    },
  },

  Split: {
    grad: ({ o, node, dy, needs }) => {
      if (!needs[0] || dy.every((g) => !g)) return node.inputs.map(() => null);
      const axis = intAttr(node, 'axis', 0);
      const parts = node.outputs.map((y, i) => dy[i] ?? o.zerosLike(y));
      return [o.concat(parts, axis), ...node.inputs.slice(1).map(() => null)];
    },
  },

  Slice: {
    grad: ({ o, node, dy, needs }) => {
      const [x, startsIn, , axesIn, stepsIn] = node.inputs;
      const g = dy[0];
      if (!g || !needs[0]) return node.inputs.map(() => null);
      const rank = x.shape.length;
      const starts = constantValues(o.g, startsIn);
      const axes = axesIn ? constantValues(o.g, axesIn) : starts?.map((_, i) => i);
      const steps = stepsIn ? constantValues(o.g, stepsIn) : undefined;
      if (!starts || !axes) throw gradBug('Slice gradients need constant starts and axes');
      if (steps && steps.some((s) => s !== 1)) throw gradBug('Slice gradients support step 1 only');
      const begin = new Array<number>(rank).fill(0);
      const fromEnd = new Array<number>(rank).fill(0);
      const sliced = normalizeAxes(axes, rank);
      sliced.forEach((a, i) => {
        if (starts[i] < 0) fromEnd[a] = 1;
        begin[a] = starts[i];
      });
      const rest = node.inputs.slice(1).map(() => null);
      const ends = constantValues(o.g, node.inputs[2]);
      const staticDims = sliced.every((a) => typeof x.shape[a] === 'number');
      if (staticDims && ends) {
        // constant pads (autodiff can then join the gradients of slices that tile an axis into one Concat)
        const pads = new Array<number>(2 * rank).fill(0);
        sliced.forEach((a, i) => {
          const d = x.shape[a] as number;
          const clamp = (v: number) => Math.max(0, Math.min(d, v < 0 ? v + d : v));
          const [b, e] = [clamp(starts[i]), Math.max(clamp(starts[i]), clamp(ends[i]))];
          pads[a] = b;
          pads[rank + a] = d - e;
        });
        return [o.pad(g, o.ints(pads), x.shape), ...rest];
      }
      const shapeX = o.shapeOf(x);
      // begins = start (or dim + start for negative starts), clamped to [0, dim] as Slice does
      let begins = o.ints(begin);
      if (fromEnd.some(Boolean)) begins = o.add(begins, o.mul(shapeX, o.ints(fromEnd)));
      begins = o.max(o.min(begins, shapeX), o.ints(new Array(rank).fill(0)));
      const endPads = o.sub(o.sub(shapeX, begins), o.shapeOf(g));
      return [o.pad(g, o.concat([begins, endPads], 0), x.shape), ...rest];
    },
  },
};
