/** Every op autodiff can differentiate, by ONNX op type. */
import type { GradRule, GradRules } from './grad-rule.ts';
import { elementwiseRules } from './grad-elementwise.ts';
import { shapeRules } from './grad-shape.ts';
import { indexingRules } from './grad-indexing.ts';
import { reductionRules } from './grad-reductions.ts';
import { matmulRules } from './grad-matmul.ts';

const rules: GradRules = { ...elementwiseRules, ...shapeRules, ...indexingRules, ...reductionRules, ...matmulRules };

export function gradientRule(op: string): GradRule | undefined {
  return Object.hasOwn(rules, op) ? rules[op] : undefined;
}

export const differentiableOps = (): string[] => Object.keys(rules).sort();
