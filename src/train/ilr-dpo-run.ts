/**
 * `alignkit train ilr-dpo`: the iterative length-regularized DPO loop (ilr-dpo-loop.ts) as a run:
 * its folder taken, its models loaded once, progress by iteration and stage, and the summary and
 * report written after every run — also one that failed or stopped for an external training step.
 */
import { resolve } from 'node:path';
import { inputError } from '../errors.ts';
import { finishRun } from '../report/finish-run.ts';
import { RunSession, type RunTarget } from '../run/run-session.ts';
import type { Summary } from '../run/summary.ts';
import { runIlrDpo, type IlrDpoResult, type IterationRecord } from './ilr-dpo-loop.ts';
import { ilrDpoSummary } from './ilr-dpo-summary.ts';
import { checkLengthAlpha } from './length-regularized.ts';
import { checkBeta, tokenizerOfModel } from './modpo-run.ts';
import type { SampleSettings } from './policy-samples.ts';
import { preferenceTrainer } from './preference-training.ts';
import { openReward } from './reward-spec.ts';
import type { TrainingSettings } from './train-run.ts';

export interface IlrDpoRunOptions extends RunTarget {
  /** π_0: a local checkpoint */
  model: string;
  tokenizer?: string;
  /** environment variable with the API key of served reward models or iterates */
  apiKeyEnv?: string;
  prompts: readonly string[];
  /** prompts each iterate is evaluated on (default: `prompts`) */
  evalPrompts?: readonly string[];
  /** the reward that ranks samples: length, sentiment, vader, afinn, rm:PATH, dpo:PATH[@REF] or a model path */
  reward: string;
  iterations: number;
  sampling: Omit<SampleSettings, 'seed'>;
  evalSamplesPerPrompt?: number;
  /** a fresh slice of this many prompts each iteration (default: all) */
  promptsPerIteration?: number;
  /** α of the length term in the loss (0 = plain iterative DPO) */
  lengthAlpha: number;
  /** λ of the selection score r − λ·|y| (default 0) */
  selectionLengthPenalty: number;
  beta: number;
  loss: 'sigmoid' | 'hinge';
  seed: number;
  training: TrainingSettings;
  /** stop before each training step and write its pairs for an external trainer */
  externalTraining?: boolean;
  /** with externalTraining: the checkpoint (or BASE_URL#MODEL) trained on the waiting iteration's pairs */
  iterate?: string;
}

export interface IlrDpoRunResult extends IlrDpoResult {
  summary: Summary;
  reportPath: string;
}

/** `alignkit train ilr-dpo`: iterative length-regularized DPO, resumable inside every step. */
export async function trainIlrDpo(o: IlrDpoRunOptions): Promise<IlrDpoRunResult> {
  const lengthAlpha = checkLengthAlpha(o.lengthAlpha);
  if (o.selectionLengthPenalty < 0)
    throw inputError(`--selection-length-penalty must be ≥ 0, got ${o.selectionLengthPenalty}`, {
      field: 'selection-length-penalty',
    });
  checkBeta(o.beta);
  if (o.iterate !== undefined && !o.resume)
    throw inputError('--iterate continues a loop that waits for an external training step; pass it with --resume', {
      field: 'iterate',
    });
  const trainer = o.externalTraining
    ? ('external' as const)
    : preferenceTrainer('train ilr-dpo', o.training, o.loss, tokenizerOfModel(o));
  const session = RunSession.open({
    ...o,
    command: 'train ilr-dpo',
    models: { apiKeyEnv: o.apiKeyEnv, tokenizerFor: tokenizerOfModel(o) },
  });
  let records: IterationRecord[] = [];
  let rewardName = o.reward;
  const summarize = () => ilrDpoSummary(records, { rewardName, lengthAlpha, beta: o.beta });
  try {
    const start = await session.models.load(o.model);
    const reward = await openReward(
      o.reward,
      {
        load: session.models.load,
        policyTokenizer: start.tokenizer,
        sftRef: o.model,
        beta: o.beta,
        format: o.sampling.format,
      },
      'reward',
    );
    rewardName = reward.name;
    session.start({
      model: o.model,
      prompts: o.prompts.length,
      evalPrompts: o.evalPrompts?.length ?? null,
      reward: o.reward,
      iterations: o.iterations,
      lengthAlpha,
      selectionLengthPenalty: o.selectionLengthPenalty,
      beta: o.beta,
      loss: o.loss,
      sampling: o.sampling,
      evalSamplesPerPrompt: o.evalSamplesPerPrompt ?? o.sampling.samplesPerPrompt,
      seed: o.seed,
      promptsPerIteration: o.promptsPerIteration ?? null,
      training: o.training,
    });
    let waiting: IlrDpoResult['waiting'];
    try {
      ({ records, waiting } = await runIlrDpo({
        out: o.out,
        model: o.model,
        prompts: o.prompts,
        evalPrompts: o.evalPrompts,
        iterations: o.iterations,
        promptsPerIteration: o.promptsPerIteration,
        reward,
        sampling: o.sampling,
        evalSamplesPerPrompt: o.evalSamplesPerPrompt,
        beta: o.beta,
        lengthAlpha,
        selectionLengthPenalty: o.selectionLengthPenalty,
        seed: o.seed,
        resume: o.resume ?? false,
        // iterates the loop wrote are freed when done; π_0 and reward models stay loaded
        load: session.models.load,
        release: (ref) => (resolve(ref).startsWith(resolve(o.out)) ? session.models.release(ref) : Promise.resolve()),
        train: trainer,
        iterate: o.iterate,
        results: session.folder,
        onProgress: (e) =>
          session.progress({
            stage: `iteration ${e.iteration} ${e.stage}`,
            done: e.done,
            total: e.total,
            note: e.detail,
          }),
      }));
    } catch (e) {
      records = session.folder.finished<IterationRecord>();
      if (records.length) finishRun(session.folder, summarize());
      throw e;
    }
    return { records, waiting, ...finishRun(session.folder, summarize()) };
  } finally {
    await session.close();
  }
}
