/** The contract between autodiff and the per-op gradient rules. */
import type { GraphNode, Value } from './graph.ts';
import type { Ops } from './ops.ts';

export interface GradContext {
  o: Ops;
  node: GraphNode;
  /**
   * Upstream gradient of each output (null when none flows). With `broadcastable` rules a
   * gradient may be smaller than its output and broadcast to it; otherwise it has the output's shape.
   */
  dy: (Value | null)[];
  /** which inputs need a gradient */
  needs: boolean[];
}

export interface GradRule {
  /** gradient per input (null = none); may broadcast to the input's shape */
  grad(c: GradContext): (Value | null)[];
  /** the rule accepts upstream gradients that broadcast to the outputs (elementwise math) */
  broadcastable?: boolean;
}

export type GradRules = Record<string, GradRule>;
