/**
 * `alignkit sweep modpo`: one MODPO policy per weight vector (modpo-sweep.ts), each evaluated
 * with the SFT model and any implicit-reward margin model on every objective, as a run: its
 * folder taken, its models loaded once, the summary with the Pareto front and the report written
 * after every run — also one that failed part-way, from the members that finished.
 */
import { join, resolve } from 'node:path';
import { inputError } from '../errors.ts';
import { finishRun } from '../report/finish-run.ts';
import { RunSession, type RunTarget } from '../run/run-session.ts';
import type { Summary } from '../run/summary.ts';
import { checkBeta, openMarginModels, tokenizerOfModel, type ModpoSettings } from './modpo-run.ts';
import { runModpoSweep, type MemberRecord } from './modpo-sweep.ts';
import { modpoSweepSummary } from './modpo-sweep-summary.ts';
import { parseWeightSweep, weightVector } from './objective-weights.ts';
import type { SampleSettings } from './policy-samples.ts';
import { preferenceTrainer } from './preference-training.ts';
import { openReward, SPEC_HELP, type RewardSource } from './reward-spec.ts';

export interface ModpoSweepRunOptions extends ModpoSettings, RunTarget {
  /** "from:to:step" over w_k (two objectives), or weight vectors "0.2,0.8;0.5,0.5" */
  weights: string;
  /** rewards every member is evaluated on, the trained objective's first */
  objectives: readonly string[];
  evalPrompts: readonly string[];
  sampling: SampleSettings;
}

export interface ModpoSweepRunResult {
  records: MemberRecord[];
  /** w_k = 0 vectors, evaluated through an implicit-reward margin model instead of trained */
  dropped: number[];
  summary: Summary;
  reportPath: string;
}

/** `alignkit sweep modpo`: a MODPO family over the weights, every member evaluated on every objective. */
export async function sweepModpo(o: ModpoSweepRunOptions): Promise<ModpoSweepRunResult> {
  checkBeta(o.beta);
  const { weights, dropped } = parseWeightSweep(o.weights, o.marginModels.length);
  if (o.objectives.length < 2)
    throw inputError(
      `expected at least two objectives to evaluate the family on, the trained objective's first (each one of: ${SPEC_HELP}), e.g. sentiment,length`,
      { field: 'objectives' },
    );
  const trainer = preferenceTrainer('sweep modpo', o.training, o.loss, tokenizerOfModel(o));
  const session = RunSession.open({
    ...o,
    command: 'sweep modpo',
    models: { apiKeyEnv: o.apiKeyEnv, tokenizerFor: tokenizerOfModel(o) },
  });
  let records: MemberRecord[] = [];
  let objectiveNames: string[] = [...o.objectives];
  const summarize = () => modpoSweepSummary(records, objectiveNames, { beta: o.beta });
  try {
    const margins = await openMarginModels(o, session.models);
    const sft = await session.models.load(o.model);
    const objectives: RewardSource[] = [];
    for (const spec of o.objectives)
      objectives.push(
        await openReward(
          spec,
          {
            load: session.models.load,
            policyTokenizer: sft.tokenizer,
            sftRef: o.model,
            beta: o.beta,
            format: o.sampling.format,
          },
          'objectives',
        ),
      );
    objectiveNames = objectives.map((x) => x.name);
    session.start({
      model: o.model,
      data: o.data,
      marginModels: o.marginModels,
      weights: weights.map(weightVector),
      droppedWeights: dropped,
      objectives: o.objectives,
      beta: o.beta,
      loss: o.loss,
      evalPrompts: o.evalPrompts.length,
      sampling: o.sampling,
      training: o.training,
    });
    try {
      records = await runModpoSweep({
        out: o.out,
        sft: o.model,
        data: { file: o.data, maxLength: sft.capabilities.maxContext },
        margins,
        weights,
        beta: o.beta,
        objectives,
        evalPrompts: o.evalPrompts,
        sampling: o.sampling,
        marginOptions: { cacheDir: o.marginCache ?? join(o.out, 'margin-cache') },
        marginPolicies: margins.flatMap((m) => (m.policy ? [m.policy] : [])),
        seed: o.sampling.seed,
        load: session.models.load,
        // member checkpoints are freed once evaluated; the SFT, margin and objective models stay loaded
        release: (ref) => (resolve(ref).startsWith(resolve(o.out)) ? session.models.release(ref) : Promise.resolve()),
        train: trainer,
        results: session.folder,
        onProgress: (e) =>
          session.progress({ stage: `${e.member} ${e.stage}`, done: e.done, total: e.total, note: e.detail }),
      });
    } catch (e) {
      records = session.folder.finished<MemberRecord>();
      if (records.length) finishRun(session.folder, summarize());
      throw e;
    }
    return { records, dropped, ...finishRun(session.folder, summarize()) };
  } finally {
    await session.close();
  }
}
