/** The flags of every `alignkit train` objective (and of the loops that train: ilr-dpo, sweep modpo). */
import type { OptionSpecs, OptionValues } from '../util/option-spec.ts';
import type { TrainingSettings } from '../train/train-run.ts';

const TRAINING = 'training';
const LORA = 'LoRA';

/** How a run trains: optimizer, schedule, steps, LoRA, checkpoints. */
export const TRAINING_OPTIONS = {
  lr: {
    type: 'number',
    min: 0,
    group: TRAINING,
    description: "learning rate (default: the objective's — sft 2e-5, rm 1e-5, value 1e-4, dpo 1e-6 — ×10 with LoRA)",
  },
  epochs: {
    type: 'number',
    min: 0,
    exclusiveMin: true,
    group: TRAINING,
    description: 'passes over the data (default 1)',
  },
  steps: { type: 'integer', min: 1, group: TRAINING, description: 'optimizer steps instead of --epochs' },
  batchSize: { type: 'integer', min: 1, default: 8, group: TRAINING, description: 'examples per micro-batch' },
  gradAccum: { type: 'integer', min: 1, default: 1, group: TRAINING, description: 'micro-batches per optimizer step' },
  optimizer: { type: 'string', choices: ['adamw', 'sgd'], default: 'adamw', group: TRAINING, description: 'optimizer' },
  weightDecay: { type: 'number', min: 0, default: 0, group: TRAINING, description: 'decoupled weight decay' },
  momentum: { type: 'number', min: 0, max: 1, default: 0, group: TRAINING, description: 'SGD momentum' },
  maxGradNorm: {
    type: 'number',
    min: 0,
    group: TRAINING,
    description: 'global gradient-norm clipping, 0 = off (default 1; 0 with sgd, so one step is exactly w − lr·∇L)',
  },
  schedule: {
    type: 'string',
    choices: ['constant', 'linear', 'cosine'],
    default: 'linear',
    group: TRAINING,
    description: 'learning-rate schedule after warmup',
  },
  warmup: { type: 'integer', min: 0, default: 0, group: TRAINING, description: 'linear warmup steps' },
  maxLength: {
    type: 'integer',
    min: 2,
    group: TRAINING,
    description: "tokens per example, prompt cut from the left (default: the model's context, at most 1024)",
  },
  seed: { type: 'integer', default: 42, group: TRAINING, description: 'data order, initialization and sampling seed' },
  saveEvery: {
    type: 'integer',
    min: 0,
    default: 0,
    group: TRAINING,
    description: 'checkpoint every N steps (0 = at the end)',
  },
  evalEvery: {
    type: 'integer',
    min: 0,
    default: 0,
    group: TRAINING,
    description: 'evaluate the held-out data every N steps (0 = before and after only)',
  },
  keepCheckpoints: {
    type: 'integer',
    min: 1,
    default: 2,
    identity: false,
    group: TRAINING,
    description: 'checkpoints kept (older ones are deleted)',
  },
  loraRank: {
    type: 'integer',
    min: 1,
    group: LORA,
    description: 'train LoRA adapters of this rank instead of all weights',
  },
  loraAlpha: {
    type: 'number',
    min: 0,
    exclusiveMin: true,
    group: LORA,
    description: 'LoRA scale α (default 2 × rank)',
  },
  loraTargets: {
    type: 'list',
    group: LORA,
    description: "weights that get adapters (default: the attention projections of the model's family)",
  },
  frozen: {
    type: 'string',
    choices: ['initializer', 'input'],
    default: 'initializer',
    group: LORA,
    description: 'where frozen weights live in LoRA graphs: initializers (faster) or inputs',
  },
  save: {
    type: 'string',
    choices: ['merged', 'adapter', 'both'],
    default: 'both',
    group: LORA,
    description: 'LoRA runs: save the merged model, the adapters, or both',
  },
  quiet: { type: 'boolean', identity: false, description: 'no progress and no closing lines' },
} as const satisfies OptionSpecs;

/** The starting model and the data of an objective trained on a file. */
export const TRAIN_INPUT_OPTIONS = {
  model: {
    type: 'string',
    required: true,
    placeholder: 'PATH',
    description: 'the starting model: an HF directory or a llama2.c checkpoint',
  },
  tokenizer: { type: 'string', placeholder: 'PATH', description: 'its tokenizer when none is beside it' },
  data: { type: 'string', required: true, placeholder: 'FILE', description: 'training data (TRL-format JSONL)' },
  evalData: {
    type: 'string',
    placeholder: 'FILE',
    description: 'held-out data, evaluated before, during (--eval-every) and after training',
  },
} as const satisfies OptionSpecs;

export function trainingSettings(values: OptionValues<typeof TRAINING_OPTIONS>): TrainingSettings {
  return {
    lr: values.lr,
    epochs: values.epochs,
    steps: values.steps,
    batchSize: values.batchSize,
    gradAccum: values.gradAccum,
    optimizer: values.optimizer,
    weightDecay: values.weightDecay,
    momentum: values.momentum,
    maxGradNorm: values.maxGradNorm,
    schedule: values.schedule,
    warmup: values.warmup,
    maxLength: values.maxLength,
    seed: values.seed,
    loraRank: values.loraRank,
    loraAlpha: values.loraAlpha,
    loraTargets: values.loraTargets,
    frozen: values.frozen,
    save: values.save,
    saveEvery: values.saveEvery,
    evalEvery: values.evalEvery,
    keepCheckpoints: values.keepCheckpoints,
  };
}
