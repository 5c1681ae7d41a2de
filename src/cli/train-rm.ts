/** `alignkit train rm`: a Bradley-Terry reward model on TRL-format preference JSONL. */
import { loadPreferenceData } from '../train/data/load-preferences.ts';
import { rewardObjective } from '../train/reward-objective.ts';
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
  const values = parseTrainFlags(argv);
  const model = loadStartModel(values);
  const maxLength = maxLengthOf(values, model);
  const common = commonOptions(values, model, 1e-5);
  const data = loadPreferenceData(requireFile(values, 'data'), model.tokenizer, { maxLength });
  const evalData = values['eval-data']
    ? loadPreferenceData(requireFile(values, 'eval-data'), model.tokenizer, { maxLength })
    : undefined;
  if (!values.quiet) dataNote(data.stats, evalData?.stats, maxLength);
  await runTraining(
    'train rm',
    {
      ...common,
      objective: rewardObjective(),
      model,
      train: data.pairs,
      eval: evalData?.pairs,
      modelKind: 'reward-model',
      runConfig: {
        command: 'train rm',
        model: values.model,
        data: values.data,
        evalData: values['eval-data'] ?? null,
        maxLength,
        data_stats: data.stats,
        ...common,
      },
    },
    { metrics: ['accuracy', 'rewards/margins'], quiet: values.quiet },
  );
  return 0;
}
