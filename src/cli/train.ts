/** `alignkit train <objective>`: one command per objective, each calling its library function. */
import type { IlrDpoRunOptions } from '../train/ilr-dpo-run.ts';
import type { ModpoRunOptions } from '../train/modpo-run.ts';
import type { DpoRunOptions, TrainRunOptions, TrainRunResult } from '../train/train-run.ts';
import type { RunTarget } from '../run/run-session.ts';
import type { OptionSpecs, OptionValues } from '../util/option-spec.ts';
import { readPrompts } from '../util/prompts-file.ts';
import { command, group, type CommandContext } from './command-spec.ts';
import { printLines } from './run-output.ts';
import { API_KEY_OPTION, POLICY_SAMPLING_OPTIONS, RUN_OPTIONS, policySampling } from './shared-options.ts';
import { TRAINING_OPTIONS, TRAIN_INPUT_OPTIONS, trainingSettings } from './train-options.ts';

const FILE_TRAINING = { ...TRAIN_INPUT_OPTIONS, ...RUN_OPTIONS, ...TRAINING_OPTIONS } as const;

const fmt = (v: number) => (Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 1 ? v.toFixed(3) : v.toPrecision(3));

/** The closing lines of a training run: final metrics, held-out before/after, where things went. */
function printTrainingEnd(result: TrainRunResult): void {
  const line = (label: string, m?: Record<string, number>) =>
    m
      ? [
          `${label.padEnd(18)} ${Object.entries(m)
            .map(([k, v]) => `${k} ${fmt(v)}`)
            .join(', ')}`,
        ]
      : [];
  printLines([
    ...line(`step ${result.steps}`, result.final),
    ...line('held-out before', result.evalBefore),
    ...line('held-out after', result.evalAfter),
    ...(result.modelDir ? [`model              ${result.modelDir}`] : []),
    ...(result.adapterDir ? [`adapter            ${result.adapterDir}`] : []),
    `metrics            ${result.outDir}/metrics.jsonl`,
    `report             ${result.reportPath}`,
  ]);
}

/** The run target of a training command: with --quiet, no progress. */
export function trainTarget(values: { quiet: boolean }, context: CommandContext) {
  return { ...context.runTarget(), ...(values.quiet ? { onProgress: undefined } : {}) };
}

/** The options of a file-trained objective as the library takes them (the library API calls this too). */
export function fileTrainingRun(values: OptionValues<typeof FILE_TRAINING>, target: RunTarget): TrainRunOptions {
  return {
    ...target,
    model: values.model,
    tokenizer: values.tokenizer,
    data: values.data,
    evalData: values.evalData,
    training: trainingSettings(values),
  };
}

/** The same, with the command's progress and a line per data file. */
function fileTraining(values: OptionValues<typeof FILE_TRAINING>, context: CommandContext): TrainRunOptions {
  return {
    ...fileTrainingRun(values, trainTarget(values, context)),
    onData: values.quiet
      ? undefined
      : (s: { file: string; examples: number; truncated: number }) =>
          console.error(
            `${s.file}: ${s.examples} examples${s.truncated ? `, ${s.truncated} truncated (prompt cut from the left)` : ''}`,
          ),
  };
}

const sft = command({
  name: 'train sft',
  summary: 'supervised fine-tuning on prompt/completion data (prompt tokens masked)',
  description:
    'Supervised fine-tuning on TRL-format JSONL: {"prompt", "completion"}, {"messages": [...]} (the last, assistant message is trained on) or {"text"}. Prompt tokens are masked; EOS is appended to plain-text completions. Writes OUT/model (an HF directory), OUT/metrics.jsonl, checkpoints that --resume continues from, and OUT/report.html.',
  examples: ['train sft --model models/stories260K --data sft.jsonl --out runs/sft --epochs 2'],
  options: FILE_TRAINING,
  async run(values, context) {
    const { trainSft } = await import('../train/train-run.ts');
    const result = await trainSft(fileTraining(values, context));
    context.progress.stop();
    if (!values.quiet) printTrainingEnd(result);
    return 0;
  },
});

const rm = command({
  name: 'train rm',
  summary: 'Bradley-Terry reward model on preference pairs (scalar head at the last token)',
  description:
    'A Bradley-Terry reward model on TRL-format preference JSONL ({"prompt", "chosen", "rejected"}, strings or chat messages): a scalar head on the last token, trained so that the chosen response scores higher. Writes OUT/model as a sequence-classification HF directory.',
  examples: ['train rm --model models/stories260K --data prefs.jsonl --out runs/rm'],
  options: FILE_TRAINING,
  async run(values, context) {
    const { trainRewardModel } = await import('../train/train-run.ts');
    const result = await trainRewardModel(fileTraining(values, context));
    context.progress.stop();
    if (!values.quiet) printTrainingEnd(result);
    return 0;
  },
});

const value = command({
  name: 'train value',
  summary: 'explicit value model for IVG: a scalar head regressed on the final reward at every prefix',
  description:
    'The explicit value model of integrated value guidance: a scalar head regressed on the final reward at every prefix of sampled responses (one forward pass per response). Data: an SFT format plus "reward", the final reward of that response.',
  examples: ['train value --model models/stories260K --data scored.jsonl --out runs/value'],
  options: FILE_TRAINING,
  async run(values, context) {
    const { trainValueModel } = await import('../train/train-run.ts');
    const result = await trainValueModel(fileTraining(values, context));
    context.progress.stop();
    if (!values.quiet) printTrainingEnd(result);
    return 0;
  },
});

const DPO_LOSS = {
  beta: { type: 'number', min: 0, exclusiveMin: true, default: 0.1, group: 'DPO', description: 'DPO β' },
  loss: {
    type: 'string',
    choices: ['sigmoid', 'hinge'],
    default: 'sigmoid',
    group: 'DPO',
    description: 'DPO loss: −log σ(β·Δ) or the hinge max(0, 1 − β·Δ)',
  },
} as const;

const DPO_OPTIONS = {
  ...FILE_TRAINING,
  ...DPO_LOSS,
  refModel: {
    type: 'string',
    placeholder: 'PATH',
    group: 'DPO',
    description: 'the frozen reference (default: the starting model)',
  },
  lengthAlpha: {
    type: 'number',
    min: 0,
    default: 0,
    group: 'DPO',
    description: 'length-regularized DPO: α·(|y_w| − |y_l|) inside the loss (0 = plain DPO)',
  },
} as const satisfies OptionSpecs;

/** `train dpo`'s options as the library takes them, on top of the file-training ones. */
export function dpoRun(values: OptionValues<typeof DPO_OPTIONS>, training: TrainRunOptions): DpoRunOptions {
  return {
    ...training,
    beta: values.beta,
    loss: values.loss,
    refModel: values.refModel,
    lengthAlpha: values.lengthAlpha,
  };
}

const dpo = command({
  name: 'train dpo',
  summary: 'direct preference optimization against cached reference log-probs',
  description:
    "DPO on TRL-format preference JSONL. The reference log-probs come from the starting model (or --ref-model) once, cached in OUT/reference-logps.json; metrics are TRL's (rewards/accuracies, rewards/margins, logps/*).",
  examples: ['train dpo --model runs/sft/model --data prefs.jsonl --out runs/dpo --beta 0.1'],
  options: DPO_OPTIONS,
  async run(values, context) {
    const { trainDpo } = await import('../train/train-run.ts');
    const result = await trainDpo(dpoRun(values, fileTraining(values, context)));
    context.progress.stop();
    if (!values.quiet) printTrainingEnd(result);
    return 0;
  },
});

/** What MODPO training and the MODPO sweep share. */
const MODPO_OPTIONS = {
  ...TRAIN_INPUT_OPTIONS,
  ...RUN_OPTIONS,
  ...TRAINING_OPTIONS,
  ...DPO_LOSS,
  ...API_KEY_OPTION,
  marginModels: {
    type: 'list',
    required: true,
    group: 'MODPO',
    description:
      'one reward per other objective: length, sentiment, vader, afinn, rm:PATH, dpo:PATH[@REF] or a model path',
  },
  marginCache: {
    type: 'string',
    placeholder: 'DIR',
    identity: false,
    group: 'MODPO',
    description: 'where computed margins are cached (default: the user cache folder; sweep: OUT/margin-cache)',
  },
} as const;

function modpoSettings(values: OptionValues<typeof MODPO_OPTIONS>) {
  return {
    model: values.model,
    tokenizer: values.tokenizer,
    apiKeyEnv: values.apiKeyEnv,
    data: values.data,
    marginModels: values.marginModels,
    marginCache: values.marginCache,
    beta: values.beta,
    loss: values.loss,
    training: trainingSettings(values),
  };
}

const MODPO_TRAIN_OPTIONS = {
  ...MODPO_OPTIONS,
  weights: {
    type: 'string',
    required: true,
    group: 'MODPO',
    description: "objective weights w_k,w_1,…, the trained objective's first, summing to 1",
  },
} as const satisfies OptionSpecs;

/** `train modpo`'s options as the library takes them. */
export function modpoRun(values: OptionValues<typeof MODPO_TRAIN_OPTIONS>, target: RunTarget): ModpoRunOptions {
  return { ...target, ...modpoSettings(values), weights: values.weights };
}

const modpo = command({
  name: 'train modpo',
  summary: "multi-objective DPO: one objective's pairs, the others as cached margin rewards",
  description:
    "Multi-objective DPO (MODPO) on one objective's preference pairs, with the other objectives as frozen margin rewards computed once and cached by model and data. --weights gives w_k (the trained objective's) first, then one per margin model; they sum to 1. With w_k = 1 and no margins it is DPO.",
  examples: [
    'train modpo --model runs/sft/model --data prefs.jsonl --weights 0.3,0.7 --margin-models length --out runs/modpo',
  ],
  options: MODPO_TRAIN_OPTIONS,
  async run(values, context) {
    const { trainModpo } = await import('../train/modpo-run.ts');
    const result = await trainModpo(modpoRun(values, trainTarget(values, context)));
    if (!values.quiet)
      printLines([
        `weights            ${[result.weights.trained, ...result.weights.margins].join(', ')} (trained objective first)`,
        `final              ${Object.entries(result.metrics ?? {})
          .map(([k, v]) => `${k} ${+v.toPrecision(4)}`)
          .join(', ')}`,
        `model              ${result.checkpoint}`,
        `report             ${result.reportPath}`,
      ]);
    return 0;
  },
});

const ILR_DPO_OPTIONS = {
  model: TRAIN_INPUT_OPTIONS.model,
  tokenizer: TRAIN_INPUT_OPTIONS.tokenizer,
  prompts: {
    type: 'string',
    required: true,
    placeholder: 'FILE',
    description: 'JSONL with a "prompt" field per line, or .txt with one prompt per line',
  },
  evalPrompts: {
    type: 'string',
    placeholder: 'FILE',
    description: 'prompts each iterate is evaluated on (default --prompts)',
  },
  reward: {
    type: 'string',
    required: true,
    placeholder: 'R',
    description: 'the reward ranking samples: length, sentiment, vader, afinn, rm:PATH, dpo:PATH[@REF] or a model path',
  },
  iterations: {
    type: 'integer',
    min: 1,
    default: 3,
    identity: false,
    description: 'iterations (more may be asked for on --resume)',
  },
  samplesPerPrompt: { type: 'integer', min: 2, default: 4, description: 'responses sampled per prompt' },
  evalSamplesPerPrompt: {
    type: 'integer',
    min: 1,
    description: 'responses per evaluation prompt (default --samples-per-prompt)',
  },
  promptsPerIteration: {
    type: 'integer',
    min: 1,
    description: 'a fresh slice of this many prompts each iteration (default all)',
  },
  lengthAlpha: {
    type: 'number',
    min: 0,
    default: 0,
    description: 'α of the length term in the loss (0 = plain iterative DPO)',
  },
  selectionLengthPenalty: {
    type: 'number',
    min: 0,
    default: 0,
    description: 'λ of the pair-selection score r − λ·|y| (off by default: α already penalizes length)',
  },
  externalTraining: {
    type: 'boolean',
    description: 'stop before each training step and write its pairs for another trainer',
  },
  iterate: {
    type: 'string',
    placeholder: 'REF',
    identity: false,
    description: 'with --resume after --external-training: the model trained on the waiting pairs',
  },
  ...RUN_OPTIONS,
  ...TRAINING_OPTIONS,
  ...DPO_LOSS,
  ...POLICY_SAMPLING_OPTIONS,
  ...API_KEY_OPTION,
} as const satisfies OptionSpecs;

/** `train ilr-dpo`'s options as the library takes them (the prompt files read). */
export function ilrDpoRun(values: OptionValues<typeof ILR_DPO_OPTIONS>, target: RunTarget): IlrDpoRunOptions {
  const prompts = (file: string) => readPrompts(file).map((p) => p.prompt);
  return {
    ...target,
    model: values.model,
    tokenizer: values.tokenizer,
    apiKeyEnv: values.apiKeyEnv,
    prompts: prompts(values.prompts),
    evalPrompts: values.evalPrompts ? prompts(values.evalPrompts) : undefined,
    reward: values.reward,
    iterations: values.iterations,
    sampling: policySampling(values, values.samplesPerPrompt),
    evalSamplesPerPrompt: values.evalSamplesPerPrompt,
    promptsPerIteration: values.promptsPerIteration,
    lengthAlpha: values.lengthAlpha,
    selectionLengthPenalty: values.selectionLengthPenalty,
    beta: values.beta,
    loss: values.loss,
    seed: values.seed,
    training: trainingSettings(values),
    externalTraining: values.externalTraining,
    iterate: values.iterate,
  };
}

const ilrDpo = command({
  name: 'train ilr-dpo',
  summary: 'iterative length-regularized DPO: sample, score, pair best vs worst, train, evaluate, repeat',
  description:
    "Iterative length-regularized DPO: for each iteration, sample --samples-per-prompt responses per prompt from the current policy, score them with --reward, pair the best against the worst, train DPO with the length term α·(|y_w| − |y_l|) from the current policy (also the reference), and evaluate the new policy on fixed prompts and seeds. α = 0 is plain iterative DPO. Each iteration's pairs are TRL JSONL (iter-<t>/preferences.jsonl); --external-training stops before each training step so another trainer can take it. --iterations may grow on --resume.",
  examples: [
    'train ilr-dpo --model runs/sft/model --prompts prompts.jsonl --reward rm:runs/rm/model --iterations 3 --samples-per-prompt 4 --length-alpha 0.01 --out runs/ilr',
  ],
  options: ILR_DPO_OPTIONS,
  async run(values, context) {
    const { trainIlrDpo } = await import('../train/ilr-dpo-run.ts');
    const result = await trainIlrDpo(ilrDpoRun(values, trainTarget(values, context)));
    context.progress.stop();
    const { waiting } = result;
    if (waiting) {
      printLines([
        `iteration ${waiting.iteration} waits for external training.`,
        `  pairs (TRL JSONL):  ${waiting.data}`,
        `  start and reference: ${waiting.policy}`,
        `  loss: DPO with beta ${values.beta}${values.lengthAlpha > 0 ? ` plus the length margin ${values.lengthAlpha}·(length_chosen − length_rejected) (columns in the file, policy tokens)` : ''}`,
        `then continue with the same flags plus: --resume --iterate <the trained checkpoint, or BASE_URL#MODEL serving it>`,
      ]);
      return 0;
    }
    if (!values.quiet) {
      const { formatTable } = await import('./run-output.ts');
      printLines([
        '',
        result.summary.title,
        '',
        formatTable(result.summary.tables[0]),
        '',
        `preference data    ${values.out}/iter-<t>/preferences.jsonl (TRL format)`,
        `final model        ${result.records.at(-1)?.policy}`,
        `report             ${result.reportPath}`,
      ]);
    }
    return 0;
  },
});

export { MODPO_OPTIONS, modpoSettings };

/** The commands, for the library API (which takes the same options). */
export const trainCommands = { sft, rm, value, dpo, modpo, ilrDpo };

export const train = group({
  name: 'train',
  noun: 'objective',
  summary: 'train sft|rm|value|dpo|modpo|ilr-dpo',
  description:
    "Training on the CPU with alignkit's engine (full fine-tuning or LoRA adapters): every objective writes OUT/model (an HF directory), OUT/metrics.jsonl, resumable checkpoints and OUT/report.html.",
  commands: [sft, rm, value, dpo, modpo, ilrDpo],
});
