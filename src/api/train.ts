/**
 * Training as a library (`alignkit/train`): one function per objective, each taking the flags of
 * its `alignkit train` command as an options object, checked as the CLI checks them, and writing
 * the same run folder (`out`: model, metrics, checkpoints that `resume` continues, report). The
 * trainers load on first call.
 */
import type { dpoRun, fileTrainingRun, ilrDpoRun, modpoRun } from '../cli/train.ts';
import type { DataStats } from '../train/data/load-sft.ts';
import type { IlrDpoRunResult } from '../train/ilr-dpo-run.ts';
import type { ModpoRunResult } from '../train/modpo-run.ts';
import type { TrainRunResult } from '../train/train-run.ts';
import { checkOptions, RUN_CALLBACKS, runTargetOf, type RunCallbacks } from './check-options.ts';
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

/** The checked options of a file-trained objective, as the CLI's mapping gives them to the trainer. */
async function fileTraining(source: OptionSourceName, fn: string, options: unknown) {
  const checked = await checkOptions(source, fn, options, TRAIN_CALLBACKS);
  const cli = await import('../cli/train.ts');
  const values = checked.values as Values<typeof fileTrainingRun>;
  const onData = checked.rest.onData as TrainCallbacks['onData'];
  return { cli, values, run: { ...cli.fileTrainingRun(values, runTargetOf(checked)), onData } };
}

const trainers = () => import('../train/train-run.ts');

/** Supervised fine-tuning on prompt/completion data, prompt tokens masked (`alignkit train sft`). */
export async function trainSft(options: Options.TrainSftOptions & TrainCallbacks): Promise<TrainRunResult> {
  const { run } = await fileTraining('TrainSftOptions', 'trainSft', options);
  return (await trainers()).trainSft(run);
}

/** A Bradley-Terry reward model on preference pairs: a scalar head at the last token (`alignkit train rm`). */
export async function trainRewardModel(
  options: Options.TrainRewardModelOptions & TrainCallbacks,
): Promise<TrainRunResult> {
  const { run } = await fileTraining('TrainRewardModelOptions', 'trainRewardModel', options);
  return (await trainers()).trainRewardModel(run);
}

/** IVG's explicit value model: a scalar head regressed on the final reward at every prefix (`alignkit train value`). */
export async function trainValueModel(
  options: Options.TrainValueModelOptions & TrainCallbacks,
): Promise<TrainRunResult> {
  const { run } = await fileTraining('TrainValueModelOptions', 'trainValueModel', options);
  return (await trainers()).trainValueModel(run);
}

/** Direct preference optimization, optionally length-regularized (`lengthAlpha`) (`alignkit train dpo`). */
export async function trainDpo(options: Options.TrainDpoOptions & TrainCallbacks): Promise<TrainRunResult> {
  const { cli, values, run } = await fileTraining('TrainDpoOptions', 'trainDpo', options);
  return (await trainers()).trainDpo(cli.dpoRun(values as Values<typeof dpoRun>, run));
}

/** Multi-objective DPO: one objective's pairs, the others as cached margin rewards (`alignkit train modpo`). */
export async function trainModpo(options: Options.TrainModpoOptions & RunCallbacks): Promise<ModpoRunResult> {
  const checked = await checkOptions('TrainModpoOptions', 'trainModpo', options, RUN_CALLBACKS);
  const { modpoRun: toRun } = await import('../cli/train.ts');
  const { trainModpo: run } = await import('../train/modpo-run.ts');
  return run(toRun(checked.values as Values<typeof modpoRun>, runTargetOf(checked)));
}

/** Iterative length-regularized DPO: sample, score, pair best vs worst, train, evaluate, repeat (`alignkit train ilr-dpo`). */
export async function trainIlrDpo(options: Options.TrainIlrDpoOptions & RunCallbacks): Promise<IlrDpoRunResult> {
  const checked = await checkOptions('TrainIlrDpoOptions', 'trainIlrDpo', options, RUN_CALLBACKS);
  const { ilrDpoRun: toRun } = await import('../cli/train.ts');
  const { trainIlrDpo: run } = await import('../train/ilr-dpo-run.ts');
  return run(toRun(checked.values as Values<typeof ilrDpoRun>, runTargetOf(checked)));
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
