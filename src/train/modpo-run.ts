/**
 * `alignkit train modpo`: multi-objective DPO on one objective's preference pairs, with the
 * other objectives as frozen margin rewards (computed once, cached by model and data). The first
 * weight is the trained objective's; the rest follow the margin models' order.
 */
import { inputError } from '../errors.ts';
import type { ModelPool } from '../run/model-pool.ts';
import { RunSession, type RunTarget } from '../run/run-session.ts';
import { defaultCacheDir } from '../util/cache-dir.ts';
import { modpoMargins } from './modpo-sweep.ts';
import { parseWeights, type ObjectiveWeights } from './objective-weights.ts';
import { preferenceTrainer } from './preference-training.ts';
import { openReward, SPEC_HELP, type RewardSource } from './reward-spec.ts';
import type { TrainingSettings } from './train-run.ts';

/** What the MODPO commands share: the SFT model, its pairs, the margin rewards, β and the DPO loss. */
export interface ModpoSettings {
  /** π_sft: the start and the reference (a local checkpoint) */
  model: string;
  /** its tokenizer when none is beside it */
  tokenizer?: string;
  /** environment variable with the API key of served margin models */
  apiKeyEnv?: string;
  /** TRL preference pairs of the trained objective */
  data: string;
  /** one reward per other objective (length, sentiment, rm:PATH, dpo:PATH[@REF], ...) */
  marginModels: readonly string[];
  /** where computed margins are cached (default: the user's cache folder) */
  marginCache?: string;
  beta: number;
  loss: 'sigmoid' | 'hinge';
  training: TrainingSettings;
}

export interface ModpoRunOptions extends ModpoSettings, RunTarget {
  /** "w_k,w_1,..." summing to 1, the trained objective's first */
  weights: string;
}

export interface ModpoRunResult {
  weights: ObjectiveWeights;
  checkpoint: string;
  metrics?: Record<string, number>;
  reportPath: string;
}

export function checkBeta(beta: number): number {
  if (!(beta > 0)) throw inputError(`--beta must be positive, got ${beta}`, { field: 'beta' });
  return beta;
}

/** The margin rewards named by `marginModels`, loaded through the pool (a margin model may be the SFT model). */
export async function openMarginModels(s: ModpoSettings, pool: ModelPool): Promise<RewardSource[]> {
  if (!s.marginModels.length)
    throw inputError(`missing --margin-models (one per objective besides the trained one: ${SPEC_HELP})`, {
      field: 'margin-models',
    });
  const sft = await pool.load(s.model);
  const out: RewardSource[] = [];
  for (const spec of s.marginModels)
    out.push(
      await openReward(
        spec,
        { load: pool.load, policyTokenizer: sft.tokenizer, sftRef: s.model, beta: s.beta },
        'margin-models',
      ),
    );
  return out;
}

/** Tokenizer of a reference: --tokenizer belongs to --model only. */
export const tokenizerOfModel = (s: { model: string; tokenizer?: string }) => (ref: string) =>
  ref === s.model ? s.tokenizer : undefined;

/** `alignkit train modpo`: MODPO with the margins computed once (cached), then the DPO-family trainer. */
export async function trainModpo(o: ModpoRunOptions): Promise<ModpoRunResult> {
  checkBeta(o.beta);
  const weights = parseWeights(o.weights, o.marginModels.length);
  const trainer = preferenceTrainer('train modpo', o.training, o.loss, tokenizerOfModel(o));
  const session = RunSession.open({
    ...o,
    command: 'train modpo',
    models: { apiKeyEnv: o.apiKeyEnv, tokenizerFor: tokenizerOfModel(o) },
  });
  try {
    const sources = await openMarginModels(o, session.models);
    const sft = await session.models.load(o.model);
    // margins are computed on the pairs' full texts, so the token limit only matters to the trainer
    const margins = await modpoMargins({ file: o.data, maxLength: sft.capabilities.maxContext }, sft, sources, {
      cacheDir: o.marginCache ?? defaultCacheDir('margins'),
      onProgress: (e) =>
        session.progress({
          stage: `margins ${e.source}`,
          done: e.done,
          total: e.total,
          note: e.cached ? 'cached' : undefined,
        }),
    });
    await session.models.dispose(); // the margin models are done before training starts
    const result = await trainer(
      {
        policy: o.model,
        reference: o.model,
        data: o.data,
        out: o.out,
        beta: o.beta,
        modpo: { weights, margins },
        seed: o.training.seed,
        resume: o.resume ?? false,
        startRun: (config) => session.start(config),
      },
      (e) =>
        session.progress({
          stage: 'train',
          done: e.step,
          total: e.steps,
          note: e.loss !== undefined ? `loss ${e.loss.toFixed(4)}` : undefined,
        }),
    );
    // the trainer wrote the summary and the preference trainer the report of this folder
    return { weights, ...result, reportPath: session.folder.path('report.html') };
  } finally {
    await session.close();
  }
}
