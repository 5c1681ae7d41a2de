/**
 * The PreferenceTrainer the MODPO and iLR-DPO commands use: `train dpo`'s machinery (the same
 * training flags, cached reference log-probs, the trainer loop and its run folder) with MODPO's
 * scale β/w_k and per-pair margins and/or the length term α·(|y_w| − |y_l|).
 */
import { join } from 'node:path';
import { AlignkitError, inputError } from '../errors.ts';
import { readTrainableCheckpoint } from '../lm/load.ts';
import { writeReport } from '../report/write-report.ts';
import { loadPreferenceData } from './data/load-preferences.ts';
import { dpoObjective } from './dpo-objective.ts';
import type { PreferencePair } from './examples.ts';
import { lengthOffset, withLengthMetrics } from './length-regularized.ts';
import { modpoDpoTerms } from './modpo-loss.ts';
import type { PreferenceTrainer } from './preference-trainer.ts';
import { attachReferenceLogps } from './reference-logps.ts';
import { train } from './trainer.ts';
import { maxLengthFor, trainerSettings, type TrainingSettings } from './train-run.ts';

/**
 * @param settings the training settings of every run (lr, epochs, batch size, LoRA, ...)
 * @param tokenizerFor the tokenizer of a checkpoint that needs one (llama2.c π_0); trained iterates carry their own
 */
export function preferenceTrainer(
  command: string,
  settings: TrainingSettings,
  loss: 'sigmoid' | 'hinge',
  tokenizerFor: (path: string) => string | undefined,
): PreferenceTrainer {
  if (settings.save === 'adapter')
    throw inputError(`${command} trains from each result, so it needs merged weights; use --save merged or both`, {
      field: 'save',
    });
  return async (job, onProgress) => {
    const model = readTrainableCheckpoint(job.policy, tokenizerFor(job.policy));
    const maxLength = maxLengthFor(model, settings.maxLength);
    const data = loadPreferenceData(job.data, model.tokenizer, { maxLength });
    const common = trainerSettings(model, { ...settings, seed: job.seed }, 1e-6, job.out, job.resume);
    const reference =
      job.reference === job.policy ? model : readTrainableCheckpoint(job.reference, tokenizerFor(job.reference));
    if (JSON.stringify(reference.config) !== JSON.stringify(model.config))
      throw inputError(
        `the reference ${job.reference} has another architecture or vocabulary than the policy ${job.policy}`,
        { field: 'model' },
      );
    await attachReferenceLogps(reference.config, reference.weights, data.pairs, join(job.out, 'reference-logps.json'));

    let scale = job.beta;
    const offsets = new Map<PreferencePair, number>();
    if (job.modpo) {
      if (job.modpo.margins.length !== data.pairs.length)
        throw new AlignkitError(
          'internal',
          `${job.modpo.margins.length} margins for ${data.pairs.length} pairs of ${job.data}`,
        );
      const terms = modpoDpoTerms(job.beta, job.modpo.weights, job.modpo.margins);
      scale = terms.beta;
      data.pairs.forEach((p, i) => offsets.set(p, terms.offsets[i]));
    }
    const alpha = job.lengthAlpha ?? 0;
    const kind = job.modpo ? 'modpo' : alpha > 0 ? 'lr-dpo' : 'dpo';
    const margin = (p: PreferencePair) =>
      (offsets.get(p) ?? 0) + lengthOffset(alpha, p.chosenIds.length, p.rejectedIds.length);
    const objective = withLengthMetrics(dpoObjective({ beta: job.beta, scale, loss, margin, kind }));
    const result = await train({
      ...common,
      objective,
      model,
      train: data.pairs,
      modelKind: 'causal-lm',
      runConfig: {
        command,
        objective: kind,
        model: job.policy,
        refModel: job.reference,
        data: job.data,
        maxLength,
        beta: job.beta,
        scale,
        loss,
        lengthAlpha: alpha,
        ...(job.modpo ? { weights: [job.modpo.weights.trained, ...job.modpo.weights.margins] } : {}),
        data_stats: data.stats,
        ...common,
      },
      startRun: job.startRun,
      onProgress: (p) => {
        if (p.phase === 'train') onProgress?.({ step: p.step, steps: p.totalSteps, loss: p.loss });
      },
    });
    writeReport(job.out);
    if (!result.modelDir) throw new AlignkitError('internal', `${command}: the trainer wrote no merged model`);
    return { checkpoint: result.modelDir, metrics: result.final };
  };
}
