/** Gradient rules of gathers: the upstream gradient is scattered (added) back into zeros. */
import type { GradRules } from './grad-rule.ts';
import { gradBug, intAttr, isFloat } from './grad-helpers.ts';

export const indexingRules: GradRules = {
  /** Embedding lookups and row selections: ScatterND-add into a zero table (duplicate ids accumulate). */
  Gather: {
    grad: ({ o, node, dy, needs }) => {
      const [data, indices] = node.inputs;
      if (!needs[0] || !dy[0] || !isFloat(data)) return [null, null];
      const rank = data.shape.length;
      const axis = intAttr(node, 'axis', 0);
      if (axis !== 0 && axis !== -rank) throw gradBug('Gather gradients support axis 0 only');
      return [o.scatterNDAdd(o.zerosLike(data), o.unsqueeze(indices, [-1]), dy[0]), null];
    },
  },
  GatherElements: {
    grad: ({ o, node, dy, needs }) => {
      const [data, indices] = node.inputs;
      if (!needs[0] || !dy[0] || !isFloat(data)) return [null, null];
      return [o.scatterElementsAdd(o.zerosLike(data), indices, dy[0], intAttr(node, 'axis', 0)), null];
    },
  },
};
