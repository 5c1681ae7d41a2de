/**
 * `alignkit improve`: find a model's weakest concepts on a concept-labelled benchmark and
 * fine-tune on concept-specific data (the ConceptMath paper's concept-targeted fine-tuning), as
 * resumable stages in one run folder:
 *
 *   before  evaluate the model on the whole benchmark (OUT/before/)
 *   data    rank concepts on the reference part; train the concept classifier on it; retrieve
 *           problems of the weakest concepts from the pools; generate more with a teacher;
 *           drop anything that duplicates an evaluation item; mix in general problems
 *           (OUT/data/train.jsonl)
 *   train   SFT (optionally LoRA) on that mix (OUT/train/)
 *   after   evaluate the fine-tuned model on the evaluation part (OUT/after/)
 *
 * and a summary with per-concept before/after on the evaluation part.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { AlignkitError, inputError } from '../errors.ts';
import type { LanguageModel } from '../lm/language-model.ts';
import { RunDir } from '../run/run-dir.ts';
import type { Summary } from '../run/summary.ts';
import { writeFileAtomic } from '../util/atomic-write.ts';
import type { GenerationSettings } from '../eval/chat.ts';
import type { ConceptMathItem } from '../eval/conceptmath/data.ts';
import type { PromptStyle } from '../eval/conceptmath/prompts.ts';
import { runConceptMath, type ConceptMathResult } from '../eval/conceptmath/run.ts';
import {
  ConceptClassifier,
  heldOutScore,
  type ClassifierSettings,
  type HeldOutScore,
  type LabelledText,
} from '../eval/concepts/concept-classifier.ts';
import { conceptUnits, type ConceptUnits } from '../eval/concepts/concept-units.ts';
import { generateProblems, type GenerationTask } from '../eval/concepts/generate.ts';
import { DuplicateIndex, type DuplicateSettings } from '../eval/concepts/near-duplicates.ts';
import { loadPool, type PoolProblem } from '../eval/concepts/problem-pool.ts';
import { classifyPool, selectForConcepts, type RetrievalSettings } from '../eval/concepts/retrieve.ts';
import { splitBenchmark, type BenchmarkSplit } from './benchmark-split.ts';
import { fineTune, type FineTuneResult } from './fine-tune.ts';
import type { FineTuneSettings } from './fine-tune-settings.ts';
import { improvementTable, rankConcepts } from './improvement-table.ts';
import { improveSummary } from './improve-summary.ts';
import { StageFile, STAGES_FILE } from './stage-file.ts';
import { cleanPool, type RemovedDuplicate } from '../eval/concepts/training-records.ts';
import { buildMix, type ConceptData } from './training-mix.ts';

export interface ImproveProgress {
  stage: 'before' | 'data' | 'generate' | 'train' | 'after';
  done: number;
  total: number;
  /** e.g. the training loss, dropped teacher outputs */
  note?: string;
}

export interface ImproveOptions {
  /** the model to improve: a local checkpoint (it is fine-tuned in-process) */
  modelPath: string;
  /** opens a model for evaluation (the CLI passes loadModel with its flags) */
  openModel: (ref: string) => Promise<LanguageModel>;
  benchmark: readonly ConceptMathItem[];
  /** pools of worked problems (GSM8K-style JSONL) to retrieve concept data from */
  pools: readonly string[];
  /** pools of general problems for the mix (default: the pools, minus the concept data) */
  generalPools?: readonly string[];
  teacher?: LanguageModel;
  weakest: number;
  runDir: RunDir;
  resume: boolean;
  /** share of each concept's items in the reference part (default 0.5) */
  referenceFraction: number;
  /** reference items a leaf concept needs to stand alone (else pooled under its parent) */
  minItems: number;
  seed: number;
  classifier?: Partial<ClassifierSettings>;
  retrieval?: Partial<RetrievalSettings>;
  generation: { perConcept: number; shots: number; settings: GenerationSettings; concurrency: number };
  duplicates?: Partial<DuplicateSettings>;
  /** general examples per concept example */
  generalRatio: number;
  fineTune: FineTuneSettings;
  evaluation: { generation: GenerationSettings; promptStyle: PromptStyle; concurrency: number };
  onProgress?: (p: ImproveProgress) => void;
}

/** What the data stage produced (stages.json keeps it). */
export interface DataReport {
  units: number;
  pooledUnits: number;
  weak: string[];
  /** the classifier on held-out reference questions (absent when too few to hold any out) */
  classifier?: HeldOutScore;
  poolProblems: number;
  perConcept: ConceptData[];
  /** weakest concepts the pools have no problem for */
  emptyInPools: string[];
  /** weakest concepts without any training data (skipped) */
  skipped: string[];
  general: number;
  records: number;
  removed: RemovedDuplicate[];
  teacher?: { model: string; calls: number; kept: number; dropped: Record<string, number> };
  trainFile: string;
}

export interface ImproveResult {
  summary: Summary;
  data: DataReport;
  fineTune: FineTuneResult;
}

/** A scored benchmark item as results.jsonl stores it. */
type Scored = ConceptMathResult & { key: string };

const part = (runDir: RunDir, name: string) => {
  const dir = runDir.path(name);
  mkdirSync(dir, { recursive: true });
  return dir;
};

/** The benchmark items' scored outcomes of one evaluation (resumable item by item). */
async function evaluate(
  o: ImproveOptions,
  stage: 'before' | 'after',
  modelRef: string,
  items: readonly ConceptMathItem[],
): Promise<number> {
  const model = await o.openModel(modelRef);
  try {
    const runDir = RunDir.create(part(o.runDir, stage), { resume: true });
    runDir.writeConfig({
      command: `improve (evaluation ${stage} fine-tuning)`,
      model: modelRef,
      items: items.length,
      promptStyle: o.evaluation.promptStyle,
      generation: o.evaluation.generation,
    });
    const run = await runConceptMath({
      items,
      runDir,
      model,
      generation: o.evaluation.generation,
      promptStyle: o.evaluation.promptStyle,
      concurrency: o.evaluation.concurrency,
      onProgress: (p) => o.onProgress?.({ stage, done: p.done, total: p.total }),
    });
    runDir.writeSummary(run.summary);
    return run.outcomes.length;
  } finally {
    await model.dispose();
  }
}

function readOutcomes(runDir: RunDir, stage: string, items: readonly ConceptMathItem[]): Scored[] {
  const byKey = new Map(
    RunDir.create(runDir.path(stage), { resume: true })
      .finished<Scored>()
      .map((r) => [r.key, r]),
  );
  return items.flatMap((i) => {
    const r = byKey.get(i.key);
    return r ? [r] : [];
  });
}

function loadPools(paths: readonly string[]): PoolProblem[] {
  return paths.flatMap((p) => loadPool(p));
}

/** The classifier's held-out score, or undefined when no concept has two reference questions to split. */
function heldOutCheck(labelled: readonly LabelledText[], o: ImproveOptions): HeldOutScore | undefined {
  try {
    return heldOutScore(labelled, { seed: o.seed, settings: o.classifier });
  } catch (e) {
    if (e instanceof AlignkitError && e.kind === 'input') return undefined;
    throw e;
  }
}

/** Concepts ranked on the reference part only (see benchmark-split.ts). */
function referenceRanking(units: ConceptUnits, split: BenchmarkSplit, before: readonly Scored[]) {
  const referenceKeys = new Set(split.reference.map((i) => i.key));
  return rankConcepts(
    units,
    before.filter((r) => referenceKeys.has(r.key)),
  );
}

async function buildData(
  o: ImproveOptions,
  split: BenchmarkSplit,
  units: ConceptUnits,
  before: readonly Scored[],
): Promise<DataReport> {
  const ranking = referenceRanking(units, split, before);
  const weak = ranking.slice(0, o.weakest).map((r) => r.concept);
  o.onProgress?.({ stage: 'data', done: 0, total: 3, note: 'training the concept classifier' });
  const labelled = split.reference.map((i) => ({ text: i.question, label: units.unitOf(i).id }));
  const classifier = ConceptClassifier.train(labelled, o.classifier);
  const check = heldOutCheck(labelled, o);

  o.onProgress?.({ stage: 'data', done: 1, total: 3, note: 'retrieving from the pools' });
  const index = new DuplicateIndex(
    split.evaluation.map((i) => ({ key: i.key, text: i.question })),
    o.duplicates,
  );
  const pool = loadPools(o.pools);
  const poolClean = cleanPool(classifyPool(classifier, pool), index);
  const retrieval = selectForConcepts(poolClean.clean, classifier.labels, weak, o.retrieval);
  const general = o.generalPools?.length
    ? cleanPool(loadPools(o.generalPools), index)
    : { clean: poolClean.clean, removed: [] };

  let teacherReport: DataReport['teacher'];
  let generated: Awaited<ReturnType<typeof generateProblems>>['problems'] = [];
  if (o.teacher) {
    const tasks: GenerationTask[] = weak.map((id) => {
      const demo = retrieval.byConcept.get(id)?.[0] ?? poolClean.clean[0];
      return {
        unit: units.byId.get(id)!,
        examples: split.reference
          .filter((i) => units.unitOf(i).id === id)
          .map((i) => ({ question: i.question, answer: i.answer })),
        demo: demo && { question: demo.question, solution: demo.solution, answer: demo.answer },
      };
    });
    const outcome = await generateProblems({
      teacher: o.teacher,
      tasks,
      perConcept: o.generation.perConcept,
      shots: o.generation.shots,
      generation: o.generation.settings,
      concurrency: o.generation.concurrency,
      seed: o.seed,
      recordsPath: join(part(o.runDir, 'data'), 'generated.jsonl'),
      onProgress: (p) =>
        o.onProgress?.({ stage: 'generate', done: p.done, total: p.total, note: `dropped ${p.dropped}` }),
    });
    generated = outcome.problems;
    teacherReport = {
      model: o.teacher.id,
      calls: outcome.records.length,
      kept: outcome.problems.length,
      dropped: outcome.dropped,
    };
  }

  o.onProgress?.({ stage: 'data', done: 2, total: 3, note: 'mixing' });
  const mix = buildMix({
    weakConcepts: weak,
    retrieved: retrieval.byConcept,
    generated,
    general: general.clean,
    generalRatio: o.generalRatio,
    index,
    seed: o.seed,
  });
  const conceptExamples = mix.records.filter((r) => r.source !== 'general').length;
  if (conceptExamples === 0) {
    throw inputError(
      `no training data for any of the ${weak.length} weakest concepts: the pools have no problems the classifier assigns to them${o.teacher ? ' and the teacher produced no usable problem' : ''} (pass --teacher REF, or pools closer to the benchmark)`,
      { field: '--pool' },
    );
  }
  const trainFile = join(part(o.runDir, 'data'), 'train.jsonl');
  writeFileAtomic(trainFile, mix.records.map((r) => JSON.stringify(r) + '\n').join(''));
  const removed = [...poolClean.removed, ...general.removed, ...mix.removed];
  writeFileAtomic(
    join(part(o.runDir, 'data'), 'removed-duplicates.jsonl'),
    removed.map((r) => JSON.stringify(r) + '\n').join(''),
  );
  o.onProgress?.({ stage: 'data', done: 3, total: 3 });
  return {
    units: units.units.length,
    pooledUnits: units.units.filter((u) => u.level < 2).length,
    weak,
    classifier: check,
    poolProblems: pool.length,
    perConcept: mix.perConcept,
    emptyInPools: [...retrieval.empty, ...retrieval.unknown],
    skipped: mix.skipped,
    general: mix.general,
    records: mix.records.length,
    removed,
    teacher: teacherReport,
    trainFile,
  };
}

/** A run folder holding a (possibly killed) improve run is only continued with --resume. */
export function checkRunFolder(runDir: RunDir, resume: boolean): void {
  if (!resume && existsSync(runDir.path(STAGES_FILE)))
    throw inputError(
      `${runDir.dir} already holds an improve run; pass --resume to continue it or choose another --out`,
      { field: '--out' },
    );
}

export async function runImprove(o: ImproveOptions): Promise<ImproveResult> {
  checkRunFolder(o.runDir, o.resume);
  if (!Number.isInteger(o.weakest) || o.weakest < 1)
    throw inputError(`--weakest expects a positive integer, got ${o.weakest}`, { field: '--weakest' });
  if (!o.pools.length)
    throw inputError('improve needs at least one --pool FILE of worked problems', { field: '--pool' });
  const stages = new StageFile(o.runDir.dir);
  const split = splitBenchmark(o.benchmark, o.referenceFraction, o.seed);
  if (!split.reference.length || !split.evaluation.length)
    throw inputError(
      `the benchmark has too few items to split into a reference and an evaluation part (${o.benchmark.length} items)`,
      { field: '--eval' },
    );
  const units = conceptUnits(o.benchmark, split.reference, o.minItems);
  // fail on bad pools before spending model time
  if (!stages.finished('data')) for (const p of [...o.pools, ...(o.generalPools ?? [])]) loadPool(p);

  await stages.run('before', async () => ({ items: await evaluate(o, 'before', o.modelPath, o.benchmark) }));
  const before = readOutcomes(o.runDir, 'before', o.benchmark);
  const data = await stages.run('data', () => buildData(o, split, units, before));
  const tuned = await stages.run('train', () =>
    fineTune({
      modelPath: o.modelPath,
      dataFile: data.trainFile,
      outDir: part(o.runDir, 'train'),
      settings: o.fineTune,
      resume: o.resume,
      onProgress: (p) => {
        if (p.phase === 'train')
          o.onProgress?.({
            stage: 'train',
            done: p.step,
            total: p.totalSteps,
            note: p.loss === undefined ? undefined : `loss ${p.loss.toFixed(4)}`,
          });
      },
    }),
  );
  await stages.run('after', async () => ({ items: await evaluate(o, 'after', tuned.modelDir, split.evaluation) }));
  const after = readOutcomes(o.runDir, 'after', split.evaluation);

  const evaluationKeys = new Set(split.evaluation.map((i) => i.key));
  const table = improvementTable({
    units,
    ranking: referenceRanking(units, split, before),
    weak: data.weak,
    before: before.filter((r) => evaluationKeys.has(r.key)),
    after,
  });
  const summary = improveSummary({
    table,
    data,
    fineTune: tuned,
    units,
    split,
    model: o.modelPath,
    weakest: o.weakest,
    teacher: o.teacher?.id,
  });
  o.runDir.writeSummary(summary);
  writeFileAtomic(o.runDir.path('results.jsonl'), table.concepts.map((c) => JSON.stringify(c) + '\n').join(''));
  return { summary, data, fineTune: tuned };
}
