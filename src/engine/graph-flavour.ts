/**
 * Graph flavours of inference graphs: `standard` (the ONNX domain only: portable to any ONNX
 * runtime, onnxruntime-web included) and `contrib` (onnxruntime's com.microsoft kernels where they
 * are faster). Which contrib kernels an onnxruntime build has is found by loading a one-node model
 * per kernel, once per process; naming a flavour or kernel it lacks is refused in one line that
 * names it and what is available.
 */
import { Graph, type Value } from './graph.ts';
import { ContribOps, CONTRIB_KERNELS, type ContribKernel } from './contrib-ops.ts';
import { quantizeBlockwise, quantizedInitializers } from './block-quantize.ts';
import { GraphSession } from './session.ts';
import { inputError, type ErrorWhere } from '../errors.ts';

export const GRAPH_FLAVOURS = ['standard', 'contrib'] as const;
export type GraphFlavour = (typeof GRAPH_FLAVOURS)[number];

/** The flavour named by a flag or config value. */
export function parseGraphFlavour(name: string, where: ErrorWhere = { field: '--graph-flavour' }): GraphFlavour {
  if ((GRAPH_FLAVOURS as readonly string[]).includes(name)) return name as GraphFlavour;
  throw inputError(`unknown graph flavour "${name}" (available: ${GRAPH_FLAVOURS.join(', ')})`, where);
}

/** A one-node model exercising each kernel over an input x [1, 1, 32]. */
const probes: Record<ContribKernel, (g: Graph, c: ContribOps, x: Value) => Value> = {
  GroupQueryAttention: (g, c, x) => {
    const past = g.tensor('past', 'float32', [1, 1, 0, 8], new Float32Array(0));
    // x as packed q|k|v of 2 query heads and 1 KV head of 8
    const io = { query: x, pastKey: past, pastValue: past };
    const lengths = { seqlensK: g.constant([0], 'int32', [1]), totalSequenceLength: g.constant([1], 'int32', []) };
    return c.groupQueryAttention({ ...io, ...lengths }, { numHeads: 2, numKvHeads: 1 }).output;
  },
  RotaryEmbedding: (g, c, x) => {
    const table = g.tensor('table', 'float32', [1, 8], new Float32Array(8));
    return c.rotaryEmbedding(x, g.constant([0], 'int64', [1, 1]), table, table, 2);
  },
  SkipSimplifiedLayerNormalization: (g, c, x) =>
    c.skipSimplifiedLayerNorm(x, x, g.constant(Array(32).fill(1)), 1e-5).normed,
  MatMulNBits: (g, c, x) =>
    c.matMulNBits(x, quantizedInitializers(g, 'w', quantizeBlockwise(new Float32Array(64), 2, 32, 4))),
  FastGelu: (_g, c, x) => c.fastGelu(x),
  QuickGelu: (_g, c, x) => c.quickGelu(x, 1),
};

/** Whether onnxruntime loads a model built by `build` over an input x [1, 1, 32]. */
export async function kernelLoads(build: (g: Graph, c: ContribOps, x: Value) => Value): Promise<boolean> {
  const g = new Graph('kernel probe');
  g.output(build(g, new ContribOps(g), g.input('x', 'float32', [1, 1, 32])), 'y');
  try {
    await (await GraphSession.create(g, 'kernel probe', { threads: 1 })).release();
    return true;
  } catch {
    return false;
  }
}

let available: Promise<ContribKernel[]> | undefined;

/** The contrib kernels this onnxruntime build runs (probed once per process). */
export function availableContribKernels(): Promise<ContribKernel[]> {
  available ??= (async () => {
    const found: ContribKernel[] = [];
    for (const kernel of CONTRIB_KERNELS) if (await kernelLoads(probes[kernel])) found.push(kernel);
    return found;
  })();
  return available;
}

/**
 * Refuses, in one line, kernels that are unknown or that this build lacks, naming them and the
 * available ones. `have` defaults to what onnxruntime was found to run.
 */
export async function requireContribKernels(
  kernels: readonly string[],
  where: ErrorWhere = { field: '--graph-flavour' },
  have?: readonly string[],
): Promise<void> {
  const present = have ?? (await availableContribKernels());
  const missing = kernels.filter((k) => !present.includes(k));
  if (!missing.length) return;
  const unknown = missing.filter((k) => !(CONTRIB_KERNELS as readonly string[]).includes(k));
  const what = unknown.length
    ? `unknown contrib kernel${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}`
    : `this onnxruntime build lacks the contrib kernel${missing.length > 1 ? 's' : ''} ${missing.join(', ')}`;
  throw inputError(
    `${what} (available: ${present.join(', ') || 'none'}; the standard graph flavour needs none)`,
    where,
  );
}
