/** `alignkit sweep <family>`: train a family of models over a grid of settings and evaluate every member. */
import { command, group } from './command-spec.ts';
import { formatTable, printLines } from './run-output.ts';
import { POLICY_SAMPLING_OPTIONS, policySampling } from './shared-options.ts';
import { MODPO_OPTIONS, modpoSettings, trainTarget } from './train.ts';

const modpo = command({
  name: 'sweep modpo',
  summary: 'MODPO over a range of preference weights, every member evaluated on every objective (Pareto front)',
  description:
    'One MODPO policy per weight vector from the same SFT model, margins and data (margins computed once, cached), then every member, the SFT model and any implicit-reward margin model (the w_k = 0 end) sampled on the same prompts with the same seeds and scored on every objective; the report shows the Pareto front. Finished members are kept, so a killed sweep resumes with the member it was training. Training flags as for train dpo.',
  examples: [
    'sweep modpo --model runs/sft/model --data prefs.jsonl --weights 0:1:0.25 --margin-models length --objectives sentiment,length --eval-prompts prompts.jsonl --out runs/front',
  ],
  options: {
    ...MODPO_OPTIONS,
    weights: {
      type: 'string',
      required: true,
      group: 'MODPO',
      description: 'w_k from:to:step (two objectives), or weight vectors "0.2,0.8;0.5,0.5"',
    },
    objectives: {
      type: 'list',
      required: true,
      group: 'MODPO',
      description: "rewards every member is evaluated on, the trained objective's first (e.g. sentiment,length)",
    },
    evalPrompts: {
      type: 'string',
      required: true,
      placeholder: 'FILE',
      group: 'MODPO',
      description: 'prompts the members are sampled on (JSONL "prompt" or .txt)',
    },
    samplesPerPrompt: { type: 'integer', min: 1, default: 4, group: 'sampling', description: 'responses per prompt' },
    ...POLICY_SAMPLING_OPTIONS,
  },
  async run(values, context) {
    const { sweepModpo } = await import('../train/modpo-sweep-run.ts');
    const { readPrompts } = await import('../util/prompts-file.ts');
    const result = await sweepModpo({
      ...trainTarget(values, context),
      ...modpoSettings(values),
      weights: values.weights,
      objectives: values.objectives,
      evalPrompts: readPrompts(values.evalPrompts).map((p) => p.prompt),
      sampling: { ...policySampling(values, values.samplesPerPrompt), seed: values.seed },
    });
    context.progress.stop();
    if (values.quiet) return 0;
    printLines([
      ...(result.dropped.length
        ? [
            'w_k = 0 is not a MODPO run (the loss divides by w_k); an implicit-reward margin model is evaluated as that end instead',
          ]
        : []),
      '',
      result.summary.title,
      '',
      formatTable(result.summary.tables[0]),
      '',
      ...Object.entries(result.summary.metrics ?? {}).map(([k, v]) => `${k}: ${v}`),
      `report: ${result.reportPath}`,
    ]);
    return 0;
  },
});

export const sweepGroup = group({
  name: 'sweep',
  noun: 'family',
  summary: 'train and evaluate a family (sweep modpo)',
  description: 'Trains a family of models over a grid of settings and evaluates each member.',
  commands: [modpo],
});
