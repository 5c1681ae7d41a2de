/** `alignkit concepts classify|retrieve|generate`: the pieces of `improve`, each its own run (eval/concepts/concept-runs.ts). */
import type { RunOutputs } from '../report/finish-run.ts';
import type { OptionValues } from '../util/option-spec.ts';
import { command, group, type CommandContext } from './command-spec.ts';
import { BENCHMARK_OPTIONS, MIN_PROBABILITY_OPTION, TEACHER_OPTIONS } from './improve.ts';
import { printRunEnd } from './run-output.ts';
import { API_KEY_OPTION, RUN_OPTIONS } from './shared-options.ts';

const COMMON = {
  ...BENCHMARK_OPTIONS,
  exclude: {
    type: 'list',
    placeholder: 'FILE',
    description:
      'more questions (JSONL with "question") that outputs must not duplicate; the benchmark\'s own are always excluded',
  },
  ...RUN_OPTIONS,
} as const;

const CONCEPT = {
  type: 'string',
  repeatable: true,
  required: true,
  placeholder: 'ID',
  description:
    'a concept to work on (repeatable; "all" = every concept): "<grade>:<cate0>/<cate1>/<cate2>" or the path alone when unambiguous',
} as const;

function common(values: OptionValues<typeof COMMON>, context: CommandContext) {
  return {
    ...context.runTarget(),
    benchmark: { eval: values.eval, data: values.data, systems: values.systems, limit: values.limit },
    minItems: values.minItems,
    seed: values.seed,
    exclude: values.exclude,
  };
}

function finish(result: RunOutputs, context: CommandContext): number {
  context.progress.stop();
  printRunEnd(result);
  return 0;
}

const classify = command({
  name: 'concepts classify',
  summary: "label questions with the benchmark's concepts",
  description:
    "Trains a concept classifier on the benchmark's labelled questions (or loads a saved one) and labels every question of --input with its concept and the top three. The classifier is scored on held-out labelled questions against the majority-class baseline.",
  examples: ['concepts classify --eval benchmark.jsonl --input data/gsm8k/test.jsonl --out runs/concepts'],
  options: {
    ...COMMON,
    input: {
      type: 'list',
      placeholder: 'FILE',
      description: 'JSONL with a "question" field (pools, benchmark files)',
    },
    classifier: { type: 'string', placeholder: 'FILE', description: 'use a saved classifier instead of training one' },
    saveClassifier: {
      type: 'string',
      placeholder: 'FILE',
      identity: false,
      description: 'save the trained classifier',
    },
    holdout: {
      type: 'number',
      min: 0,
      max: 1,
      exclusiveMax: true,
      default: 0.3,
      description: 'share of the labelled questions held out to score the classifier (0 = skip)',
    },
  },
  async run(values, context) {
    const { classifyConcepts } = await import('../eval/concepts/concept-runs.ts');
    const result = await classifyConcepts({
      ...common(values, context),
      inputs: values.input,
      classifier: values.classifier,
      saveClassifier: values.saveClassifier,
      holdout: values.holdout,
    });
    return finish(result, context);
  },
});

const retrieve = command({
  name: 'concepts retrieve',
  summary: 'problems of chosen concepts from pools of worked problems',
  description:
    "Classifies the problems of the pools with the concept classifier and keeps the most probable ones of each chosen concept, without duplicates of the benchmark's questions. Also writes OUT/train.jsonl (prompt/completion, for alignkit train sft).",
  examples: [
    'concepts retrieve --eval benchmark.jsonl --pool data/gsm8k/test.jsonl --concept all --out runs/retrieved',
  ],
  options: {
    ...COMMON,
    pool: {
      type: 'list',
      required: true,
      placeholder: 'FILE',
      description: 'GSM8K-style JSONL {question, answer: "...#### final"} or {question, solution, answer}',
    },
    concept: CONCEPT,
    perConcept: { type: 'integer', min: 1, default: 100, description: 'problems per concept' },
    ...MIN_PROBABILITY_OPTION,
  },
  async run(values, context) {
    const { retrieveConceptProblems } = await import('../eval/concepts/concept-runs.ts');
    const result = await retrieveConceptProblems({
      ...common(values, context),
      pools: values.pool,
      concepts: values.concept,
      perConcept: values.perConcept,
      minProbability: values.minProbability,
    });
    return finish(result, context);
  },
});

const generate = command({
  name: 'concepts generate',
  summary: 'new problems with worked solutions for chosen concepts, from a teacher model',
  description:
    "Asks a teacher model for new problems of each chosen concept, showing it the concept's benchmark questions and the format of a worked problem; malformed replies and duplicates are dropped and counted. Every reply is kept in OUT/generated.jsonl (a killed run resumes with --resume); also writes OUT/train.jsonl.",
  examples: [
    'concepts generate --eval benchmark.jsonl --teacher http://127.0.0.1:8000/v1#teacher --concept all --out runs/generated',
  ],
  options: {
    ...COMMON,
    teacher: {
      type: 'string',
      required: true,
      placeholder: 'REF',
      description: 'the teacher model (local path or BASE_URL#MODEL)',
    },
    ...API_KEY_OPTION,
    concept: CONCEPT,
    perConcept: { type: 'integer', min: 1, default: 20, description: 'teacher calls per concept' },
    ...TEACHER_OPTIONS,
    pool: {
      type: 'list',
      placeholder: 'FILE',
      description: 'worked problems whose format the teacher is shown (optional)',
    },
    concurrency: { type: 'integer', min: 1, default: 4, identity: false, description: 'teacher calls in flight' },
  },
  async run(values, context) {
    const { generateConceptProblems } = await import('../eval/concepts/concept-runs.ts');
    const result = await generateConceptProblems({
      ...common(values, context),
      teacher: values.teacher,
      apiKeyEnv: values.apiKeyEnv,
      concepts: values.concept,
      perConcept: values.perConcept,
      shots: values.shots,
      pools: values.pool,
      teacherTemperature: values.teacherTemperature,
      teacherMaxNewTokens: values.teacherMaxNewTokens,
      concurrency: values.concurrency,
    });
    return finish(result, context);
  },
});

export const conceptsGroup = group({
  name: 'concepts',
  summary: 'concept classify|retrieve|generate (the pieces of improve)',
  description:
    'The pieces of `alignkit improve`, each on its own. The concepts are those of a concept-labelled benchmark (ConceptMath with --data, or your files in its format); leaf concepts with fewer than --min-items questions are pooled under their parent. Output: OUT/results.jsonl, OUT/summary.json, OUT/report.html.',
  commands: [classify, retrieve, generate],
});
