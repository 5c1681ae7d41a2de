/** `alignkit train sft`: supervised fine-tuning on TRL-format JSONL (prompt tokens masked). */
import { loadSftData } from '../train/data/load-sft.ts';
import { sftObjective } from '../train/sft-objective.ts';
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
  const common = commonOptions(values, model, 2e-5);
  const data = loadSftData(requireFile(values, 'data'), model.tokenizer, { maxLength });
  const evalData = values['eval-data']
    ? loadSftData(requireFile(values, 'eval-data'), model.tokenizer, { maxLength })
    : undefined;
  if (!values.quiet) dataNote(data.stats, evalData?.stats, maxLength);
  await runTraining(
    'train sft',
    {
      ...common,
      objective: sftObjective(),
      model,
      train: data.examples,
      eval: evalData?.examples,
      modelKind: 'causal-lm',
      runConfig: {
        command: 'train sft',
        model: values.model,
        data: values.data,
        evalData: values['eval-data'] ?? null,
        maxLength,
        data_stats: data.stats,
        ...common,
      },
    },
    { metrics: [], quiet: values.quiet },
  );
  return 0;
}
