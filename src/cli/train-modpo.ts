/**
 * `alignkit train modpo --model SFT --data PAIRS --weights 0.2,0.8 --margin-models REF[,REF]
 * --out DIR`: multi-objective DPO on one objective's preference pairs, with the other objectives
 * as frozen margin rewards (precomputed once, cached by model + data). The first weight is the
 * trained objective's; the rest follow the margin models' order. All `train dpo` flags apply.
 */
import { loadModel } from '../lm/load.ts';
import { modpoMargins } from '../train/modpo-sweep.ts';
import { ModelPool } from '../train/model-pool.ts';
import { parseWeights } from '../train/objective-weights.ts';
import { openReward, SPEC_HELP, type RewardSource } from '../train/reward-spec.ts';
import { inputError } from '../errors.ts';
import { intFlag, listFlag, numberFlag, requireFlag } from './args.ts';
import { preferenceFlagSpec, preferenceTrainer } from './preference-training.ts';
import { defaultCacheDir } from '../util/cache-dir.ts';
import { stageProgressRenderer } from './stage-progress.ts';
import { parseTrainFlags, requireFile } from './train-flags.ts';

export const marginFlagSpec = {
  'margin-models': { type: 'string' },
  'margin-cache': { type: 'string' },
  'api-key-env': { type: 'string' },
} as const;

/** Loads the margin models named by --margin-models (sharing models with the SFT one). */
export async function openMarginModels(
  values: Record<string, any>,
  pool: ModelPool,
  beta: number,
): Promise<RewardSource[]> {
  const specs = listFlag(values, 'margin-models');
  if (!specs.length)
    throw inputError(`missing --margin-models (one per objective besides the trained one: ${SPEC_HELP})`, {
      field: 'margin-models',
    });
  const sftRef = requireFlag(values, 'model');
  const sft = await pool.load(sftRef);
  const out: RewardSource[] = [];
  for (const spec of specs)
    out.push(
      await openReward(spec, { load: pool.load, policyTokenizer: sft.tokenizer, sftRef, beta }, 'margin-models'),
    );
  return out;
}

/** Models by reference; --tokenizer belongs to --model only. */
export const modelPool = (values: Record<string, any>) =>
  new ModelPool({}, (ref) =>
    loadModel(ref, {
      tokenizer: ref === values.model ? values.tokenizer : undefined,
      apiKeyEnv: values['api-key-env'],
    }),
  );

export function betaOf(values: Record<string, any>): number {
  const beta = numberFlag(values, 'beta', 0.1);
  if (!(beta > 0)) throw inputError(`--beta must be positive, got ${beta}`, { field: 'beta' });
  return beta;
}

export async function run(argv: string[]): Promise<number> {
  const values = parseTrainFlags(argv, { ...preferenceFlagSpec, ...marginFlagSpec, weights: { type: 'string' } });
  const modelPath = requireFlag(values, 'model');
  const dataFile = requireFile(values, 'data');
  const out = requireFlag(values, 'out');
  const beta = betaOf(values);
  const marginCount = listFlag(values, 'margin-models').length;
  const weights = parseWeights(requireFlag(values, 'weights'), marginCount);
  const trainer = preferenceTrainer('train modpo', values, (p) => (p === modelPath ? values.tokenizer : undefined));

  const progress = values.quiet ? undefined : stageProgressRenderer('train modpo');
  const pool = modelPool(values);
  let margins;
  try {
    const sources = await openMarginModels(values, pool, beta);
    const sft = await pool.load(modelPath);
    // margins are computed on the pairs' full texts, so the token limit only matters to the trainer
    margins = await modpoMargins({ file: dataFile, maxLength: sft.capabilities.maxContext }, sft, sources, {
      cacheDir: values['margin-cache'] ?? defaultCacheDir('margins'),
      onProgress: (e) =>
        progress?.update({
          stage: `margins ${e.source}`,
          done: e.done,
          total: e.total,
          note: e.cached ? 'cached' : undefined,
        }),
    });
  } finally {
    await pool.dispose();
  }
  try {
    const result = await trainer(
      {
        policy: modelPath,
        reference: modelPath,
        data: dataFile,
        out,
        beta,
        modpo: { weights, margins },
        seed: intFlag(values, 'seed', 42),
        resume: values.resume === true,
      },
      (e) =>
        progress?.update({
          stage: 'train',
          done: e.step,
          total: e.steps,
          note: e.loss !== undefined ? `loss ${e.loss.toFixed(4)}` : undefined,
        }),
    );
    progress?.stop();
    if (!values.quiet) {
      console.log(`weights            ${[weights.trained, ...weights.margins].join(', ')} (trained objective first)`);
      console.log(
        `final              ${Object.entries(result.metrics ?? {})
          .map(([k, v]) => `${k} ${+v.toPrecision(4)}`)
          .join(', ')}`,
      );
      console.log(`model              ${result.checkpoint}`);
      console.log(`report             ${out}/report.html`);
    }
  } finally {
    progress?.stop();
  }
  return 0;
}
