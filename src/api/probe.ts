/**
 * Probing as a library (`alignkit/probe`): collect hidden states of the last prompt token with
 * attributes of the generated responses, then fit probes per layer with their controls — the
 * flags of `alignkit probe collect` and `alignkit probe fit` as options objects.
 */
import type { CollectRunResult, FitRunResult } from '../probe/probe-runs.ts';
import { checkOptions, RUN_CALLBACKS, runTargetOf, type RunCallbacks } from './check-options.ts';
import type * as Options from './option-types.ts';

/** Hidden states and response attributes, one store per model in `out` (`alignkit probe collect`). */
export async function collectProbeData(
  options: Options.CollectProbeDataOptions & RunCallbacks,
): Promise<CollectRunResult> {
  const { collectRun } = await import('../cli/probe.ts');
  const { collectProbeData: runCollect } = await import('../probe/probe-runs.ts');
  const checked = await checkOptions('CollectProbeDataOptions', 'collectProbeData', options, RUN_CALLBACKS);
  return runCollect(collectRun(checked.values as Parameters<typeof collectRun>[0], runTargetOf(checked)));
}

/** Probes per layer and attribute on collected stores, with their controls (`alignkit probe fit`). */
export async function fitProbes(options: Options.FitProbesOptions & RunCallbacks): Promise<FitRunResult> {
  const { fitRun } = await import('../cli/probe.ts');
  const { fitProbes: runFit } = await import('../probe/probe-runs.ts');
  const checked = await checkOptions('FitProbesOptions', 'fitProbes', options, RUN_CALLBACKS);
  return runFit(fitRun(checked.values as Parameters<typeof fitRun>[0], runTargetOf(checked)));
}

export type { CollectRunResult, FitRunResult };
export type { CollectProbeDataOptions, FitProbesOptions } from './option-types.ts';
