/** `alignkit train value`: IVG's explicit value model — a scalar head regressed on the final reward at every prefix of sampled responses. */
import { loadValueData } from '../train/data/load-value.ts';
import { valueObjective } from '../train/value-objective.ts';
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
  const common = commonOptions(values, model, 1e-4);
  const data = loadValueData(requireFile(values, 'data'), model.tokenizer, { maxLength });
  const evalData = values['eval-data']
    ? loadValueData(requireFile(values, 'eval-data'), model.tokenizer, { maxLength })
    : undefined;
  if (!values.quiet) dataNote(data.stats, evalData?.stats, maxLength);
  await runTraining(
    'train value',
    {
      ...common,
      objective: valueObjective(),
      model,
      train: data.examples,
      eval: evalData?.examples,
      modelKind: 'reward-model',
      runConfig: {
        command: 'train value',
        model: values.model,
        data: values.data,
        evalData: values['eval-data'] ?? null,
        maxLength,
        data_stats: data.stats,
        ...common,
      },
    },
    { metrics: ['mse', 'mse/full_response'], quiet: values.quiet },
  );
  return 0;
}
