/**
 * Training as a library (`alignkit/train`): one function per objective, each taking the flags of
 * its `alignkit train` command as an options object, checked as the CLI checks them, and writing
 * the same run folder (`out`: model, metrics, checkpoints that `resume` continues, report).
 */
import { dpoRun, fileTrainingRun, ilrDpoRun, modpoRun } from '../cli/train.ts';
import type { DataStats } from '../train/data/load-sft.ts';
import { trainIlrDpo as runIlrDpo, type IlrDpoRunResult } from '../train/ilr-dpo-run.ts';
import { trainModpo as runModpo, type ModpoRunResult } from '../train/modpo-run.ts';
import {
  trainDpo as runDpo,
  trainRewardModel as runRewardModel,
  trainSft as runSft,
  trainValueModel as runValueModel,
  type TrainRunResult,
} from '../train/train-run.ts';
import { checkOptions, RUN_CALLBACKS, runTargetOf, type CheckedOptions, type RunCallbacks } from './check-options.ts';
import type { OptionSourceName } from './option-sources.ts';
import type * as Options from './option-types.ts';

/** Callbacks of a run trained on data files. */
export interface TrainCallbacks extends RunCallbacks {
  /** hears what was read from each data file (examples, truncated ones) */
  onData?: (stats: DataStats) => void;
}

const TRAIN_CALLBACKS = [...RUN_CALLBACKS, 'onData'] as const;

// The option values are checked against the command's own specification, so they have its types.
type Values<F extends (values: never, ...rest: never[]) => unknown> = Parameters<F>[0];

function fileTraining(source: OptionSourceName, fn: string, options: unknown) {
  const checked = checkOptions(source, fn, options, TRAIN_CALLBACKS);
  const values = checked.values as Values<typeof fileTrainingRun>;
  return { checked, values, run: { ...fileTrainingRun(values, runTargetOf(checked)), onData: onData(checked) } };
}

const onData = (checked: CheckedOptions) => checked.rest.onData as TrainCallbacks['onData'];

/** Supervised fine-tuning on prompt/completion data, prompt tokens masked (`alignkit train sft`). */
export function trainSft(options: Options.TrainSftOptions & TrainCallbacks): Promise<TrainRunResult> {
  return runSft(fileTraining('TrainSftOptions', 'trainSft', options).run);
}

/** A Bradley-Terry reward model on preference pairs: a scalar head at the last token (`alignkit train rm`). */
export function trainRewardModel(options: Options.TrainRewardModelOptions & TrainCallbacks): Promise<TrainRunResult> {
  return runRewardModel(fileTraining('TrainRewardModelOptions', 'trainRewardModel', options).run);
}

/** IVG's explicit value model: a scalar head regressed on the final reward at every prefix (`alignkit train value`). */
export function trainValueModel(options: Options.TrainValueModelOptions & TrainCallbacks): Promise<TrainRunResult> {
  return runValueModel(fileTraining('TrainValueModelOptions', 'trainValueModel', options).run);
}

/** Direct preference optimization, optionally length-regularized (`lengthAlpha`) (`alignkit train dpo`). */
export function trainDpo(options: Options.TrainDpoOptions & TrainCallbacks): Promise<TrainRunResult> {
  const { values, run } = fileTraining('TrainDpoOptions', 'trainDpo', options);
  return runDpo(dpoRun(values as Values<typeof dpoRun>, run));
}

/** Multi-objective DPO: one objective's pairs, the others as cached margin rewards (`alignkit train modpo`). */
export function trainModpo(options: Options.TrainModpoOptions & RunCallbacks): Promise<ModpoRunResult> {
  const checked = checkOptions('TrainModpoOptions', 'trainModpo', options, RUN_CALLBACKS);
  return runModpo(modpoRun(checked.values as Values<typeof modpoRun>, runTargetOf(checked)));
}

/** Iterative length-regularized DPO: sample, score, pair best vs worst, train, evaluate, repeat (`alignkit train ilr-dpo`). */
export function trainIlrDpo(options: Options.TrainIlrDpoOptions & RunCallbacks): Promise<IlrDpoRunResult> {
  const checked = checkOptions('TrainIlrDpoOptions', 'trainIlrDpo', options, RUN_CALLBACKS);
  return runIlrDpo(ilrDpoRun(checked.values as Values<typeof ilrDpoRun>, runTargetOf(checked)));
}

export type { TrainRunResult, ModpoRunResult, IlrDpoRunResult, DataStats };
export type {
  TrainSftOptions,
  TrainRewardModelOptions,
  TrainValueModelOptions,
  TrainDpoOptions,
  TrainModpoOptions,
  TrainIlrDpoOptions,
} from './option-types.ts';
