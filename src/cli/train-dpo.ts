/**
 * `alignkit train dpo`: DPO on TRL-format preference JSONL. Reference log-probs come from the
 * starting model (or --ref-model) once, cached in OUT/reference-logps.json.
 */
import { join } from 'node:path';
import { inputError } from '../errors.ts';
import { readLocalCheckpoint } from '../lm/load.ts';
import { loadPreferenceData } from '../train/data/load-preferences.ts';
import { dpoObjective } from '../train/dpo-objective.ts';
import { attachReferenceLogps } from '../train/reference-logps.ts';
import { lengthRegularization } from '../train/length-regularized.ts';
import { numberFlag } from './args.ts';
import { stageProgressRenderer } from './stage-progress.ts';
import {
  commonOptions,
  loadStartModel,
  maxLengthOf,
  parseTrainFlags,
  requireFile,
  runTraining,
} from './train-flags.ts';
import { dataNote } from './train-data-note.ts';

export async function run(argv: string[]): Promise<number> {
  const values = parseTrainFlags(argv, {
    beta: { type: 'string' },
    'ref-model': { type: 'string' },
    loss: { type: 'string' },
    'length-alpha': { type: 'string' },
  });
  const model = loadStartModel(values);
  const maxLength = maxLengthOf(values, model);
  const common = commonOptions(values, model, 1e-6);
  const data = loadPreferenceData(requireFile(values, 'data'), model.tokenizer, { maxLength });
  const evalData = values['eval-data']
    ? loadPreferenceData(requireFile(values, 'eval-data'), model.tokenizer, { maxLength })
    : undefined;
  const beta = numberFlag(values, 'beta', 0.1);
  if (!(beta > 0)) throw inputError(`--beta must be positive, got ${beta}`, { field: 'beta' });
  const loss = values.loss ?? 'sigmoid';
  if (loss !== 'sigmoid' && loss !== 'hinge')
    throw inputError(`--loss must be sigmoid or hinge, got "${loss}"`, { field: 'loss' });
  const lengthAlpha = numberFlag(values, 'length-alpha', 0);
  const lengthTerm = lengthRegularization(lengthAlpha);
  if (!values.quiet) dataNote(data.stats, evalData?.stats, maxLength);

  const reference = values['ref-model'] ? readLocalCheckpoint(values['ref-model'], values.tokenizer) : model;
  if (JSON.stringify(reference.config) !== JSON.stringify(model.config))
    throw inputError('--ref-model must have the same architecture and vocabulary as --model', { field: 'ref-model' });
  const pairs = [...data.pairs, ...(evalData?.pairs ?? [])];
  const progress = values.quiet ? undefined : stageProgressRenderer('train dpo');
  try {
    await attachReferenceLogps(
      reference.config,
      reference.weights,
      pairs,
      join(common.outDir, 'reference-logps.json'),
      (done, total) => progress?.update({ stage: 'reference log-probs', done, total }),
    );
  } finally {
    progress?.stop();
  }
  await runTraining(
    'train dpo',
    {
      ...common,
      objective: dpoObjective({ beta, loss, ...lengthTerm }),
      model,
      train: data.pairs,
      eval: evalData?.pairs,
      modelKind: 'causal-lm',
      runConfig: {
        command: 'train dpo',
        model: values.model,
        refModel: values['ref-model'] ?? values.model,
        data: values.data,
        evalData: values['eval-data'] ?? null,
        maxLength,
        beta,
        loss,
        lengthAlpha,
        data_stats: data.stats,
        ...common,
      },
    },
    { metrics: ['rewards/accuracies', 'rewards/margins'], quiet: values.quiet },
  );
  return 0;
}
