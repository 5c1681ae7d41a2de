/** Gradient rules of elementwise ops (broadcasting undone by summing). */
import type { Value } from './graph.ts';
import type { GradContext, GradRules } from './grad-rule.ts';
import { constantScalar, isFloat, unbroadcast } from './grad-helpers.ts';

const TWO_OVER_SQRT_PI = 2 / Math.sqrt(Math.PI);

/** A unary rule dx = f(dy, x, y). */
const unary = (f: (c: GradContext, dy: Value, x: Value, y: Value) => Value) => ({
  broadcastable: true,
  grad: (c: GradContext) => [c.dy[0] && c.needs[0] ? f(c, c.dy[0], c.node.inputs[0], c.node.outputs[0]) : null],
});

export const elementwiseRules: GradRules = {
  Identity: unary((_, dy) => dy),
  Neg: unary(({ o }, dy) => o.neg(dy)),
  Exp: unary(({ o }, dy, _x, y) => o.mul(dy, y)),
  Log: unary(({ o }, dy, x) => o.div(dy, x)),
  Sqrt: unary(({ o }, dy, _x, y) => o.div(dy, o.mul(y, o.scalar(2)))),
  Reciprocal: unary(({ o }, dy, _x, y) => o.neg(o.mul(dy, o.mul(y, y)))),
  Sigmoid: unary(({ o }, dy, _x, y) => o.mul(dy, o.mul(y, o.sub(o.scalar(1), y)))),
  Tanh: unary(({ o }, dy, _x, y) => o.mul(dy, o.sub(o.scalar(1), o.mul(y, y)))),
  Erf: unary(({ o }, dy, x) => o.mul(dy, o.mul(o.exp(o.neg(o.mul(x, x))), o.scalar(TWO_OVER_SQRT_PI)))),
  Relu: unary(({ o }, dy, x) => o.mul(dy, o.cast(o.greater(x, o.scalar(0)), 'float32'))),
  Softplus: unary(({ o }, dy, x) => o.mul(dy, o.sigmoid(x))),
  Cast: {
    broadcastable: true,
    grad: ({ node, dy, needs }) => [
      needs[0] && dy[0] && isFloat(node.inputs[0]) && isFloat(node.outputs[0]) ? dy[0] : null,
    ],
  },

  Add: {
    broadcastable: true,
    grad: ({ o, node, dy, needs }) => node.inputs.map((x, i) => (needs[i] && dy[0] ? unbroadcast(o, dy[0], x) : null)),
  },
  Sum: {
    broadcastable: true,
    grad: ({ o, node, dy, needs }) => node.inputs.map((x, i) => (needs[i] && dy[0] ? unbroadcast(o, dy[0], x) : null)),
  },
  Sub: {
    broadcastable: true,
    grad: ({ o, node, dy, needs }) => {
      const [a, b] = node.inputs;
      const g = dy[0];
      if (!g) return [null, null];
      return [needs[0] ? unbroadcast(o, g, a) : null, needs[1] ? unbroadcast(o, o.neg(g), b) : null];
    },
  },
  Mul: {
    broadcastable: true,
    grad: ({ o, node, dy, needs }) => {
      const [a, b] = node.inputs;
      const g = dy[0];
      if (!g) return [null, null];
      return [needs[0] ? unbroadcast(o, o.mul(g, b), a) : null, needs[1] ? unbroadcast(o, o.mul(g, a), b) : null];
    },
  },
  Div: {
    broadcastable: true,
    grad: ({ o, node, dy, needs }) => {
      const [a, b] = node.inputs;
      const y = node.outputs[0];
      const g = dy[0];
      if (!g) return [null, null];
      const ga = needs[0] || needs[1] ? o.div(g, b) : null;
      return [needs[0] ? unbroadcast(o, ga!, a) : null, needs[1] ? unbroadcast(o, o.neg(o.mul(ga!, y)), b) : null];
    },
  },
  Pow: {
    broadcastable: true,
    grad: ({ o, node, dy, needs }) => {
      const [a, b] = node.inputs;
      const y = node.outputs[0];
      const g = dy[0];
      if (!g) return [null, null];
      const c = constantScalar(o.g, b);
      let da: Value | null = null;
      if (needs[0]) {
        if (c === 2) da = o.mul(g, o.mul(a, o.scalar(2)));
        else if (c === 1) da = g;
        else if (c !== undefined) da = o.mul(g, o.mul(o.pow(a, o.scalar(c - 1)), o.scalar(c)));
        else da = o.mul(g, o.mul(b, o.div(y, a)));
        da = unbroadcast(o, da, a);
      }
      const db = needs[1] ? unbroadcast(o, o.mul(g, o.mul(y, o.log(a))), b) : null;
      return [da, db];
    },
  },
  Max: { broadcastable: true, grad: (c) => minMax(c, 'max') },
  Min: { broadcastable: true, grad: (c) => minMax(c, 'min') },
  Where: {
    broadcastable: true,
    grad: ({ o, node, dy, needs }) => {
      const [cond, a, b] = node.inputs;
      const g = dy[0];
      if (!g) return [null, null, null];
      const zero = o.scalar(0);
      return [
        null,
        needs[1] ? unbroadcast(o, o.where(cond, g, zero), a) : null,
        needs[2] ? unbroadcast(o, o.where(cond, zero, g), b) : null,
      ];
    },
  },
};

/** Ties send the gradient to the first input. */
function minMax({ o, node, dy, needs }: GradContext, kind: 'max' | 'min'): (Value | null)[] {
  const [a, b] = node.inputs;
  const g = dy[0];
  if (!g) return [null, null];
  const firstWins = kind === 'max' ? o.less(a, b) : o.greater(a, b); // true where b wins
  const zero = o.scalar(0);
  return [
    needs[0] ? unbroadcast(o, o.where(firstWins, zero, g), a) : null,
    needs[1] ? unbroadcast(o, o.where(firstWins, g, zero), b) : null,
  ];
}
