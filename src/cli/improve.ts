import { parseFlags, requireFlag, numberFlag, intFlag, listFlag } from './args.ts';
import { formatTable } from './run-output.ts';
import { stageProgressRenderer } from './stage-progress.ts';
import { inputError } from '../errors.ts';
import type { LanguageModel } from '../lm/language-model.ts';
import { loadModel } from '../lm/load.ts';
import { RunDir } from '../report/run-dir.ts';
import { writeReport } from '../report/write-report.ts';
import { PROMPT_STYLES, type PromptStyle } from '../eval/conceptmath/prompts.ts';
import { defaultConceptMathGeneration } from '../eval/conceptmath/run.ts';
import { loadConceptBenchmark } from '../eval/concepts/concept-benchmark.ts';
import { defaultTeacherGeneration } from '../eval/concepts/generate.ts';
import { defaultFineTuneSettings } from '../improve/fine-tune.ts';
import { checkRunFolder, runImprove } from '../improve/run-improve.ts';
import { SCHEDULES, type ScheduleKind } from '../train/schedule.ts';

const USAGE = `usage: alignkit improve --model PATH --eval conceptmath|FILE --pool FILE... --out DIR [flags]

Finds the model's weakest concepts on a concept-labelled benchmark and fine-tunes on
concept-specific data (ConceptMath's concept-targeted fine-tuning), in resumable stages:
  before  evaluate the model on the whole benchmark                    OUT/before/
  data    split the benchmark (reference part / evaluation part, by concept); rank concepts on
          the reference part; train a concept classifier on it; retrieve problems of the N
          weakest concepts from the pools; generate more with --teacher; drop duplicates of
          evaluation items; mix in general problems                     OUT/data/train.jsonl
  train   SFT (or LoRA) on the mix                                      OUT/train/model
  after   evaluate the fine-tuned model on the evaluation part          OUT/after/
Then per-concept before/after on the evaluation part: OUT/summary.json, OUT/report.html.

  --model PATH              the model to improve (a local checkpoint; it is fine-tuned in-process)
  --eval conceptmath|FILE   the benchmark: ConceptMath (with --data DIR holding its released files)
                            or your own files in its format {idx, cate0, cate1, cate2, question, answer, grade}
  --data PATH               with --eval conceptmath: the dataset folder or files
  --systems LIST            only these systems (e.g. middle_en)      --limit N  the first N items per system
  --pool FILE               worked problems to retrieve from (repeatable): GSM8K-style JSONL
                            {question, answer: "...#### final"} or {question, solution, answer}
  --general FILE            general problems for the mix (default: the pools, minus the concept data)
  --teacher REF             a model that writes new problems for the weakest concepts (local path or BASE_URL#MODEL)
  --weakest N               how many weakest concepts to target (default 10)
  --out DIR                 run folder (required)            --resume   continue a killed run
  --seed S                  split, classifier check, data order, training (default 0)

data:   --reference-fraction F (0.5)  share of each concept's items used to rank, train the classifier, prompt the teacher
        --min-items N (5)      reference items a leaf concept needs; smaller leaves are pooled under their parent
        --per-concept N (100)  retrieved problems per concept    --min-probability P (0)  classifier probability floor
        --generate N (20)      teacher calls per concept         --shots K (4)  examples shown per call
        --teacher-temperature T (0.8)  --teacher-max-new-tokens N (512)
        --general-ratio R (1)  general examples per concept example
        --dedup-jaccard J (0.5)  word 3-gram Jaccard at which a problem counts as a near duplicate of an evaluation item
train:  --lr (1e-4) --epochs (2) --steps N --batch-size (8) --grad-accum (1) --max-length N --schedule constant|linear|cosine (cosine)
        --warmup N (0) --max-grad-norm (1) --weight-decay (0) --lora-rank R --lora-alpha A --lora-targets LIST
eval:   --prompt zs|zs-cot|fs (zs) --max-new-tokens N (512) --temperature T (0) --concurrency N (4)
        --tokenizer PATH  tokenizer of a local --model     --api-key-env VAR  API key of a remote --teacher`;

const FLAGS = {
  model: { type: 'string' },
  eval: { type: 'string', multiple: true },
  data: { type: 'string', multiple: true },
  systems: { type: 'string' },
  limit: { type: 'string' },
  pool: { type: 'string', multiple: true },
  general: { type: 'string', multiple: true },
  teacher: { type: 'string' },
  weakest: { type: 'string' },
  out: { type: 'string' },
  resume: { type: 'boolean' },
  seed: { type: 'string' },
  'reference-fraction': { type: 'string' },
  'min-items': { type: 'string' },
  'per-concept': { type: 'string' },
  'min-probability': { type: 'string' },
  generate: { type: 'string' },
  shots: { type: 'string' },
  'teacher-temperature': { type: 'string' },
  'teacher-max-new-tokens': { type: 'string' },
  'general-ratio': { type: 'string' },
  'dedup-jaccard': { type: 'string' },
  lr: { type: 'string' },
  epochs: { type: 'string' },
  steps: { type: 'string' },
  'batch-size': { type: 'string' },
  'grad-accum': { type: 'string' },
  'max-length': { type: 'string' },
  schedule: { type: 'string' },
  warmup: { type: 'string' },
  'max-grad-norm': { type: 'string' },
  'weight-decay': { type: 'string' },
  'lora-rank': { type: 'string' },
  'lora-alpha': { type: 'string' },
  'lora-targets': { type: 'string' },
  prompt: { type: 'string' },
  'max-new-tokens': { type: 'string' },
  temperature: { type: 'string' },
  concurrency: { type: 'string' },
  tokenizer: { type: 'string' },
  'api-key-env': { type: 'string' },
  help: { type: 'boolean' },
} as const;

/** Flags that change what a run computes; --resume with different values is refused. */
const IDENTITY_FLAGS = Object.keys(FLAGS).filter(
  (f) => !['out', 'resume', 'concurrency', 'help', 'api-key-env'].includes(f),
);

const positive = (values: Record<string, any>, flag: string, fallback?: number) => {
  const n = intFlag(values, flag, fallback);
  if (n !== undefined && n < 1)
    throw inputError(`--${flag} expects a positive integer, got "${values[flag]}"`, { field: `--${flag}` });
  return n;
};

const fraction = (values: Record<string, any>, flag: string, fallback: number) => {
  const x = numberFlag(values, flag, fallback);
  if (!(x > 0 && x < 1))
    throw inputError(`--${flag} expects a number between 0 and 1, got "${values[flag]}"`, { field: `--${flag}` });
  return x;
};

export async function run(argv: string[]): Promise<number> {
  const { values } = parseFlags(argv, FLAGS as any);
  if (values.help || argv.length === 0) {
    console.log(USAGE);
    return values.help ? 0 : 1;
  }
  const out = requireFlag(values, 'out');
  const modelPath = requireFlag(values, 'model');
  if (modelPath.includes('#'))
    throw inputError(
      'improve fine-tunes the model in-process: --model must be a local checkpoint, not a served model',
      { field: '--model' },
    );
  const resume = !!values.resume;
  const runDir = RunDir.create(out, { resume });
  checkRunFolder(runDir, resume);
  const previous = resume ? runDir.readConfig() : undefined;
  if (previous?.flags) {
    const before = previous.flags as Record<string, unknown>;
    for (const flag of IDENTITY_FLAGS) {
      if (JSON.stringify(before[flag] ?? null) !== JSON.stringify(values[flag] ?? null))
        throw inputError(
          `--resume with a different --${flag} than the run in ${out} (${JSON.stringify(before[flag] ?? null)}); start a new --out instead`,
          { field: `--${flag}` },
        );
    }
  }
  const benchmark = loadConceptBenchmark({
    eval: listFlag(values, 'eval'),
    data: listFlag(values, 'data'),
    systems: listFlag(values, 'systems'),
    limit: positive(values, 'limit'),
  });
  const schedule = (values.schedule ?? defaultFineTuneSettings.schedule) as ScheduleKind;
  if (!SCHEDULES.includes(schedule))
    throw inputError(`--schedule expects one of ${SCHEDULES.join(', ')}, got "${schedule}"`, { field: '--schedule' });
  const promptStyle = (values.prompt ?? 'zs') as PromptStyle;
  if (!PROMPT_STYLES.includes(promptStyle))
    throw inputError(`--prompt expects one of ${PROMPT_STYLES.join(', ')}, got "${promptStyle}"`, {
      field: '--prompt',
    });
  const concurrency = positive(values, 'concurrency', 4)!;
  const seed = intFlag(values, 'seed', 0);

  runDir.writeConfig({
    command: 'improve',
    flags: Object.fromEntries(Object.entries(values).filter(([, v]) => v !== undefined)),
    items: benchmark.length,
  });
  const loaded: LanguageModel[] = [];
  const progress = stageProgressRenderer('improve');
  let result;
  try {
    const teacher = values.teacher
      ? await loadModel(values.teacher, { apiKeyEnv: values['api-key-env'], concurrency })
      : undefined;
    if (teacher) loaded.push(teacher);
    result = await runImprove({
      modelPath,
      openModel: (ref) => loadModel(ref, { tokenizer: ref === modelPath ? values.tokenizer : undefined }),
      benchmark,
      pools: listFlag(values, 'pool'),
      generalPools: listFlag(values, 'general'),
      teacher,
      weakest: positive(values, 'weakest', 10)!,
      runDir,
      resume,
      referenceFraction: fraction(values, 'reference-fraction', 0.5),
      minItems: positive(values, 'min-items', 5)!,
      seed,
      retrieval: {
        perConcept: positive(values, 'per-concept', 100),
        minProbability: numberFlag(values, 'min-probability', 0),
      },
      generation: {
        perConcept: positive(values, 'generate', 20)!,
        shots: positive(values, 'shots', 4)!,
        settings: {
          ...defaultTeacherGeneration,
          temperature: numberFlag(values, 'teacher-temperature', defaultTeacherGeneration.temperature),
          maxNewTokens: positive(values, 'teacher-max-new-tokens', defaultTeacherGeneration.maxNewTokens)!,
          seed,
        },
        concurrency,
      },
      duplicates: { jaccard: fraction(values, 'dedup-jaccard', 0.5) },
      generalRatio: numberFlag(values, 'general-ratio', 1),
      fineTune: {
        lr: numberFlag(values, 'lr', defaultFineTuneSettings.lr),
        epochs: numberFlag(values, 'epochs', defaultFineTuneSettings.epochs),
        steps: positive(values, 'steps'),
        batchSize: positive(values, 'batch-size', defaultFineTuneSettings.batchSize)!,
        gradAccum: positive(values, 'grad-accum', defaultFineTuneSettings.gradAccum)!,
        maxLength: positive(values, 'max-length'),
        schedule,
        warmup: intFlag(values, 'warmup', defaultFineTuneSettings.warmup),
        maxGradNorm: numberFlag(values, 'max-grad-norm', defaultFineTuneSettings.maxGradNorm),
        weightDecay: numberFlag(values, 'weight-decay', defaultFineTuneSettings.weightDecay),
        loraRank: positive(values, 'lora-rank'),
        loraAlpha: numberFlag(values, 'lora-alpha'),
        loraTargets: listFlag(values, 'lora-targets'),
        seed,
      },
      evaluation: {
        generation: {
          ...defaultConceptMathGeneration,
          maxNewTokens: positive(values, 'max-new-tokens', defaultConceptMathGeneration.maxNewTokens)!,
          temperature: numberFlag(values, 'temperature', 0),
          seed,
        },
        promptStyle,
        concurrency,
      },
      onProgress: progress.update,
    });
  } finally {
    progress.stop();
    for (const m of loaded) await m.dispose();
  }
  const report = writeReport(runDir.dir);
  const { summary } = result;
  console.log(`\n${summary.title}`);
  console.log(formatTable(summary.tables[0]));
  for (const table of summary.tables.slice(2)) console.log(`\n${formatTable(table)}`);
  console.log(`\nsummary: ${runDir.path('summary.json')}\nreport: ${report}`);
  return 0;
}
