/** `alignkit improve`: the concept-targeted fine-tuning loop, calling `improve` (improve/improve-run.ts). */
import { PROMPT_STYLES } from '../eval/conceptmath/prompts.ts';
import { defaultConceptMathGeneration } from '../eval/conceptmath/run.ts';
import { defaultTeacherGeneration } from '../eval/concepts/generate.ts';
import { defaultFineTuneSettings } from '../improve/fine-tune-settings.ts';
import { command } from './command-spec.ts';
import { formatTable, printLines } from './run-output.ts';
import { API_KEY_OPTION, RUN_OPTIONS } from './shared-options.ts';

const DATA = 'data';
const TRAIN = 'training';
const EVAL = 'evaluation';

/** How the concept benchmark is chosen (improve and every concepts command). */
export const BENCHMARK_OPTIONS = {
  eval: {
    type: 'list',
    required: true,
    placeholder: 'conceptmath|FILE',
    description:
      'the benchmark: ConceptMath (with --data holding its released files) or your files in its format {idx, cate0, cate1, cate2, question, answer, grade}',
  },
  data: { type: 'list', placeholder: 'PATH', description: 'with --eval conceptmath: the dataset folder or files' },
  systems: { type: 'list', description: 'only these systems (e.g. middle_en)' },
  limit: { type: 'integer', min: 1, description: 'the first N items of each system' },
  minItems: {
    type: 'integer',
    min: 1,
    default: 5,
    description: 'reference items a leaf concept needs; smaller leaves are pooled under their parent',
  },
  seed: { type: 'integer', default: 0, description: 'split, classifier check, data order, training' },
} as const;

/** How a teacher writes problems (improve's data stage, concepts generate). */
export const TEACHER_OPTIONS = {
  shots: { type: 'integer', min: 1, default: 4, description: 'benchmark questions shown per teacher call' },
  teacherTemperature: {
    type: 'number',
    min: 0,
    default: defaultTeacherGeneration.temperature,
    description: "the teacher's temperature",
  },
  teacherMaxNewTokens: {
    type: 'integer',
    min: 1,
    default: defaultTeacherGeneration.maxNewTokens,
    description: "the teacher's response length",
  },
} as const;

export const MIN_PROBABILITY_OPTION = {
  minProbability: { type: 'number', min: 0, max: 1, default: 0, description: 'classifier probability floor' },
} as const;

/** A data-stage number strictly between 0 and 1. */
const openFraction = (fallback: number, description: string) =>
  ({
    type: 'number',
    min: 0,
    max: 1,
    exclusiveMin: true,
    exclusiveMax: true,
    default: fallback,
    group: DATA,
    description,
  }) as const;

export const improveCommand = command({
  name: 'improve',
  summary: 'concept-targeted fine-tuning loop',
  description:
    "Finds the model's weakest concepts on a concept-labelled benchmark and fine-tunes on concept-specific data (ConceptMath's concept-targeted fine-tuning), in resumable stages: before (evaluate on the whole benchmark, OUT/before/), data (split the benchmark into a reference and an evaluation part by concept; rank concepts on the reference part; train a concept classifier on it; retrieve problems of the weakest concepts from the pools; generate more with --teacher; drop duplicates of evaluation items; mix in general problems, OUT/data/train.jsonl), train (SFT or LoRA on the mix, OUT/train/model), after (evaluate the fine-tuned model on the evaluation part, OUT/after/). Then per-concept before/after: OUT/summary.json, OUT/report.html.",
  examples: [
    'improve --model runs/sft/model --eval benchmark.jsonl --pool data/gsm8k/test.jsonl --weakest 3 --out runs/improve',
  ],
  options: {
    model: {
      type: 'string',
      required: true,
      placeholder: 'PATH',
      description: 'the model to improve (a local checkpoint: it is fine-tuned in-process)',
    },
    tokenizer: { type: 'string', placeholder: 'PATH', description: 'tokenizer of --model when none is beside it' },
    ...BENCHMARK_OPTIONS,
    pool: {
      type: 'list',
      placeholder: 'FILE',
      group: DATA,
      description:
        'worked problems to retrieve from: GSM8K-style JSONL {question, answer: "...#### final"} or {question, solution, answer}',
    },
    general: {
      type: 'list',
      placeholder: 'FILE',
      group: DATA,
      description: 'general problems for the mix (default: the pools, minus the concept data)',
    },
    teacher: {
      type: 'string',
      placeholder: 'REF',
      group: DATA,
      description: 'a model that writes new problems for the weakest concepts (local path or BASE_URL#MODEL)',
    },
    ...API_KEY_OPTION,
    weakest: { type: 'integer', min: 1, default: 10, group: DATA, description: 'how many weakest concepts to target' },
    referenceFraction: openFraction(
      0.5,
      "share of each concept's items used to rank, train the classifier and prompt the teacher",
    ),
    perConcept: { type: 'integer', min: 1, default: 100, group: DATA, description: 'retrieved problems per concept' },
    minProbability: { ...MIN_PROBABILITY_OPTION.minProbability, group: DATA },
    generate: { type: 'integer', min: 1, default: 20, group: DATA, description: 'teacher calls per concept' },
    shots: { ...TEACHER_OPTIONS.shots, group: DATA },
    teacherTemperature: { ...TEACHER_OPTIONS.teacherTemperature, group: DATA },
    teacherMaxNewTokens: { ...TEACHER_OPTIONS.teacherMaxNewTokens, group: DATA },
    generalRatio: {
      type: 'number',
      min: 0,
      default: 1,
      group: DATA,
      description: 'general examples per concept example',
    },
    dedupJaccard: openFraction(
      0.5,
      'word 3-gram Jaccard at which a problem counts as a near duplicate of an evaluation item',
    ),
    lr: {
      type: 'number',
      min: 0,
      exclusiveMin: true,
      default: defaultFineTuneSettings.lr,
      group: TRAIN,
      description: 'learning rate',
    },
    epochs: {
      type: 'number',
      min: 0,
      exclusiveMin: true,
      default: defaultFineTuneSettings.epochs,
      group: TRAIN,
      description: 'passes over the mix',
    },
    steps: { type: 'integer', min: 1, group: TRAIN, description: 'optimizer steps instead of --epochs' },
    batchSize: {
      type: 'integer',
      min: 1,
      default: defaultFineTuneSettings.batchSize,
      group: TRAIN,
      description: 'examples per step',
    },
    gradAccum: {
      type: 'integer',
      min: 1,
      default: defaultFineTuneSettings.gradAccum,
      group: TRAIN,
      description: 'micro-batches per step',
    },
    maxLength: {
      type: 'integer',
      min: 2,
      group: TRAIN,
      description: "tokens per example (default: the model's context)",
    },
    schedule: {
      type: 'string',
      choices: ['constant', 'linear', 'cosine'],
      default: defaultFineTuneSettings.schedule,
      group: TRAIN,
      description: 'learning-rate schedule',
    },
    warmup: {
      type: 'integer',
      min: 0,
      default: defaultFineTuneSettings.warmup,
      group: TRAIN,
      description: 'warmup steps',
    },
    maxGradNorm: {
      type: 'number',
      min: 0,
      default: defaultFineTuneSettings.maxGradNorm,
      group: TRAIN,
      description: 'gradient clipping (0 = off)',
    },
    weightDecay: {
      type: 'number',
      min: 0,
      default: defaultFineTuneSettings.weightDecay,
      group: TRAIN,
      description: 'weight decay',
    },
    loraRank: {
      type: 'integer',
      min: 1,
      group: TRAIN,
      description: 'LoRA adapters of this rank instead of full fine-tuning',
    },
    loraAlpha: { type: 'number', min: 0, exclusiveMin: true, group: TRAIN, description: 'LoRA α (default 2 × rank)' },
    loraTargets: {
      type: 'list',
      group: TRAIN,
      description: "weights with adapters (default: the family's attention projections)",
    },
    prompt: {
      type: 'string',
      choices: PROMPT_STYLES,
      default: 'zs',
      group: EVAL,
      description: 'ConceptMath prompt style',
    },
    maxNewTokens: {
      type: 'integer',
      min: 1,
      default: defaultConceptMathGeneration.maxNewTokens,
      group: EVAL,
      description: 'response length of the evaluations',
    },
    temperature: { type: 'number', min: 0, default: 0, group: EVAL, description: 'temperature of the evaluations' },
    concurrency: {
      type: 'integer',
      min: 1,
      default: 4,
      identity: false,
      group: EVAL,
      description: 'model calls in flight',
    },
    ...RUN_OPTIONS,
  },
  async run(values, context) {
    const { improve } = await import('../improve/improve-run.ts');
    const result = await improve({
      ...context.runTarget(),
      modelPath: values.model,
      tokenizer: values.tokenizer,
      apiKeyEnv: values.apiKeyEnv,
      benchmark: { eval: values.eval, data: values.data, systems: values.systems, limit: values.limit },
      pools: values.pool,
      generalPools: values.general,
      teacher: values.teacher,
      weakest: values.weakest,
      referenceFraction: values.referenceFraction,
      minItems: values.minItems,
      seed: values.seed,
      retrieval: { perConcept: values.perConcept, minProbability: values.minProbability },
      generation: {
        perConcept: values.generate,
        shots: values.shots,
        settings: {
          ...defaultTeacherGeneration,
          temperature: values.teacherTemperature,
          maxNewTokens: values.teacherMaxNewTokens,
          seed: values.seed,
        },
        concurrency: values.concurrency,
      },
      duplicates: { jaccard: values.dedupJaccard },
      generalRatio: values.generalRatio,
      fineTune: {
        lr: values.lr,
        epochs: values.epochs,
        steps: values.steps,
        batchSize: values.batchSize,
        gradAccum: values.gradAccum,
        maxLength: values.maxLength,
        schedule: values.schedule,
        warmup: values.warmup,
        maxGradNorm: values.maxGradNorm,
        weightDecay: values.weightDecay,
        loraRank: values.loraRank,
        loraAlpha: values.loraAlpha,
        loraTargets: values.loraTargets,
        seed: values.seed,
      },
      evaluation: {
        generation: {
          ...defaultConceptMathGeneration,
          maxNewTokens: values.maxNewTokens,
          temperature: values.temperature,
          seed: values.seed,
        },
        promptStyle: values.prompt,
        concurrency: values.concurrency,
      },
    });
    context.progress.stop();
    const { summary } = result;
    printLines([
      '',
      summary.title,
      formatTable(summary.tables[0]),
      ...summary.tables.slice(2).flatMap((table) => ['', formatTable(table)]),
      '',
      `summary: ${result.summaryPath}`,
      `report: ${result.reportPath}`,
    ]);
    return 0;
  },
});
