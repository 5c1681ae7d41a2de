/**
 * Reverse-mode automatic differentiation over the graph IR. The backward nodes are emitted into
 * the same graph, so one graph computes the loss and its gradients and onnxruntime runs them as
 * one step (weights fed as inputs, gradients fetched as outputs).
 *
 * Gradients are summed per value (one Sum node when several consumers contribute) and may stay
 * smaller than their value where that value was only broadcast (a [B,T,1] gradient of a
 * [B,T,D] value), which saves a full-size pass per broadcast; they are expanded only where an
 * op needs the exact shape.
 */
import type { Graph, Value } from './graph.ts';
import type { Ops } from './ops.ts';
import { gradientRule } from './gradient-rules.ts';
import { constantScalar, constantValues, gradBug, isFloat, materialize } from './grad-helpers.ts';

/**
 * A hand-written gradient for a composite: given the upstream gradient of `output`, the
 * gradients of `inputs` (null where none is needed). Autodiff uses it instead of
 * differentiating the composite's nodes one by one, which lets a composite skip intermediate
 * tensors (cross-entropy never materializes its [rows, vocab] gradient twice).
 */
export interface CustomGradient {
  inputs: readonly Value[];
  grad(o: Ops, dy: Value, needs: readonly boolean[]): (Value | null)[];
}

const customGradients = new WeakMap<Graph, Map<number, CustomGradient>>();

/** Registers `custom` as the gradient of `output` (a value computed from `custom.inputs`). */
export function defineGradient(g: Graph, output: Value, custom: CustomGradient): void {
  let map = customGradients.get(g);
  if (!map) customGradients.set(g, (map = new Map()));
  map.set(output.id, custom);
}

export interface GradientOptions {
  /** the gradient of the loss itself (default 1; the loss must then be a scalar or broadcast 1 is meant) */
  seed?: Value;
}

/**
 * Emits the gradients of `loss` with respect to each of `wrt` (graph inputs or any values) into
 * the graph of `o`. A value the loss does not depend on gets zeros.
 */
export function gradients(o: Ops, loss: Value, wrt: readonly Value[], options: GradientOptions = {}): Value[] {
  const g = o.g;
  const forward = g.nodes.slice();
  const wanted = new Set(wrt.map((v) => v.id));

  // values that depend on a `wrt` value through float math
  const dependent = new Set<number>(wanted);
  for (const node of forward) {
    if (node.inputs.some((v) => dependent.has(v.id)))
      for (const out of node.outputs) if (isFloat(out)) dependent.add(out.id);
  }
  if (!dependent.has(loss.id)) return wrt.map((w) => o.zerosLike(w));

  // of those, the ones the loss depends on
  const onPath = new Set<number>([loss.id]);
  for (let i = forward.length - 1; i >= 0; i--) {
    const node = forward[i];
    if (!node.outputs.some((v) => onPath.has(v.id))) continue;
    for (const v of node.inputs) if (dependent.has(v.id)) onPath.add(v.id);
  }

  const contributions = new Map<number, Value[]>();
  const contribute = (v: Value, grad: Value) => {
    const list = contributions.get(v.id);
    if (list) list.push(grad);
    else contributions.set(v.id, [grad]);
  };
  const total = (v: Value): Value | null => {
    const list = contributions.get(v.id);
    if (!list) return null;
    const sum = sumContributions(o, v, list);
    contributions.set(v.id, [sum]);
    return sum;
  };
  contribute(loss, options.seed ?? o.scalar(1, loss.dtype));

  const custom = customGradients.get(g);
  for (let i = forward.length - 1; i >= 0; i--) {
    const node = forward[i];
    if (!node.outputs.some((v) => contributions.has(v.id))) continue;
    const composite = node.outputs.length === 1 ? custom?.get(node.outputs[0].id) : undefined;
    if (composite) {
      const y = node.outputs[0];
      const needs = composite.inputs.map((v) => onPath.has(v.id));
      const dx = composite.grad(o, materialize(o, total(y)!, y), needs);
      composite.inputs.forEach((v, k) => {
        if (needs[k] && dx[k]) contribute(v, dx[k]!);
      });
      continue;
    }
    const needs = node.inputs.map((v) => onPath.has(v.id));
    if (!needs.some(Boolean)) continue;
    const rule = node.domain === '' ? gradientRule(node.op) : undefined;
    if (!rule) throw gradBug(`no gradient rule for ${node.op} (it lies between the loss and a trained value)`);
    const dy = node.outputs.map((v) => {
      const grad = total(v);
      return grad && !rule.broadcastable ? materialize(o, grad, v) : grad;
    });
    const dx = rule.grad({ o, node, dy, needs });
    node.inputs.forEach((v, k) => {
      if (needs[k] && dx[k]) contribute(v, dx[k]!);
    });
  }

  return wrt.map((w) => {
    const grad = total(w);
    return grad ? materialize(o, grad, w) : o.zerosLike(w);
  });
}

/** An add-scatter into a zero tensor (the gradient of a gather): ScatterND(zeros, indices, updates). */
function scatterIntoZeros(g: Graph, v: Value): { indices: Value; updates: Value } | undefined {
  const p = v.producer;
  if (p?.op !== 'ScatterND' || p.attrs.reduction?.kind !== 'string' || p.attrs.reduction.value !== 'add')
    return undefined;
  const data = p.inputs[0].producer;
  if (data?.op !== 'Expand' || constantScalar(g, data.inputs[0]) !== 0) return undefined;
  return { indices: p.inputs[1], updates: p.inputs[2] };
}

/**
 * The sum of a value's gradient contributions. Gathers' scatters into zeros are redirected into
 * the other contributions (an embedding also used as the LM head gets its rows added into the
 * head's gradient: one pass instead of zeros, a scatter and a sum of vocabulary-sized tensors).
 */
function sumContributions(o: Ops, v: Value, list: Value[]): Value {
  if (list.length === 1) return list[0];
  const tiled = joinTiledPads(o, v, list);
  if (tiled) return tiled;
  const scatters = list.map((c) => scatterIntoZeros(o.g, c));
  const rest = list.filter((_, i) => !scatters[i]);
  if (rest.length === list.length || rest.length === 0) return o.sum(list);
  let sum = materialize(o, o.sum(rest), v);
  for (const s of scatters) if (s) sum = o.scatterNDAdd(sum, s.indices, s.updates);
  return sum;
}

/**
 * Gradients of slices that tile an axis (q, k and v cut from one projection) arrive as
 * zero-padded pieces; joined with one Concat instead of padded and summed (four passes → one).
 */
function joinTiledPads(o: Ops, v: Value, list: Value[]): Value | undefined {
  const rank = v.shape.length;
  let axis = -1;
  const pieces: { begin: number; value: Value }[] = [];
  for (const c of list) {
    const p = c.producer;
    if (p?.op !== 'Pad' || c.shape.length !== rank) return undefined;
    const pads = constantValues(o.g, p.inputs[1]);
    if (!pads || p.inputs.length > 2) return undefined;
    const padded = pads.map((x, i) => (x !== 0 ? i % rank : -1)).filter((a) => a >= 0);
    if (new Set(padded).size > 1) return undefined;
    const a = padded[0] ?? axis;
    if (axis >= 0 && a !== axis) return undefined;
    axis = a;
    pieces.push({ begin: pads[a], value: p.inputs[0] });
  }
  const dim = v.shape[axis];
  if (axis < 0 || typeof dim !== 'number') return undefined;
  pieces.sort((x, y) => x.begin - y.begin);
  let at = 0;
  for (const { begin, value } of pieces) {
    const size = value.shape[axis];
    if (begin !== at || typeof size !== 'number') return undefined;
    at += size;
  }
  return at === dim
    ? o.concat(
        pieces.map((x) => x.value),
        axis,
      )
    : undefined;
}

/**
 * Removes nodes whose outputs no graph output needs, and initializers nothing reads. Call it
 * once the graph is complete (it invalidates the graph's constant cache for pruned constants).
 */
export function pruneGraph(g: Graph): void {
  const live = new Set<number>(g.outputs.map((o) => o.value.id));
  const keep = new Array<boolean>(g.nodes.length).fill(false);
  for (let i = g.nodes.length - 1; i >= 0; i--) {
    const node = g.nodes[i];
    if (!node.outputs.some((v) => live.has(v.id))) continue;
    keep[i] = true;
    for (const v of node.inputs) live.add(v.id);
  }
  const kept = g.nodes.filter((_, i) => keep[i]);
  g.nodes.length = 0;
  g.nodes.push(...kept);
  for (const id of [...g.initializers.keys()]) if (!live.has(id)) g.initializers.delete(id);
}
