/** Gradient rules of reductions and (log-)softmax. */
import type { GradContext, GradRules } from './grad-rule.ts';
import type { Value } from './graph.ts';
import { constantValues, elementCount, intAttr, intsAttr, normalizeAxes } from './grad-helpers.ts';

/** Axes a Reduce* node reduces (input form for ReduceSum, attribute form otherwise; none = all). */
function reducedAxes(c: GradContext): number[] {
  const { node, o } = c;
  const x = node.inputs[0];
  const fromInput = node.inputs[1] ? constantValues(o.g, node.inputs[1]) : undefined;
  const axes = fromInput ?? intsAttr(node, 'axes');
  return axes && axes.length ? normalizeAxes(axes, x.shape.length) : x.shape.map((_, i) => i);
}

/** The upstream gradient with the reduced axes kept as size 1, so it broadcasts over the input. */
function keptDims(c: GradContext, axes: number[]): Value {
  const g = c.dy[0]!;
  return intAttr(c.node, 'keepdims', 1) ? g : c.o.unsqueeze(g, axes);
}

const noGrad = (c: GradContext) => c.node.inputs.map(() => null);

export const reductionRules: GradRules = {
  ReduceSum: {
    broadcastable: true,
    grad: (c) => (c.dy[0] && c.needs[0] ? [keptDims(c, reducedAxes(c)), null] : noGrad(c)),
  },
  ReduceMean: {
    broadcastable: true,
    grad: (c) => {
      if (!c.dy[0] || !c.needs[0]) return noGrad(c);
      const axes = reducedAxes(c);
      return [c.o.div(keptDims(c, axes), elementCount(c.o, c.node.inputs[0], axes))];
    },
  },
  ReduceMax: {
    broadcastable: true,
    grad: (c) => {
      if (!c.dy[0] || !c.needs[0]) return noGrad(c);
      const { o, node } = c;
      const axes = reducedAxes(c);
      const x = node.inputs[0];
      const yKept = intAttr(node, 'keepdims', 1) ? node.outputs[0] : o.unsqueeze(node.outputs[0], axes);
      return [o.mul(keptDims(c, axes), o.cast(o.equal(x, yKept), 'float32'))];
    },
  },
  /** dx = y·(dy − Σ dy·y) */
  Softmax: {
    broadcastable: true,
    grad: ({ o, node, dy, needs }) => {
      if (!dy[0] || !needs[0]) return [null];
      const y = node.outputs[0];
      const axis = intAttr(node, 'axis', -1);
      return [o.mul(y, o.sub(dy[0], o.reduceSum(o.mul(dy[0], y), [axis])))];
    },
  },
  /** dx = dy − softmax(x)·Σ dy */
  LogSoftmax: {
    grad: ({ o, node, dy, needs }) => {
      if (!dy[0] || !needs[0]) return [null];
      const axis = intAttr(node, 'axis', -1);
      return [o.sub(dy[0], o.mul(o.exp(node.outputs[0]), o.reduceSum(dy[0], [axis])))];
    },
  },
};
