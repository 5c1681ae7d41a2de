/**
 * The pieces of `alignkit improve`, each a run of its own (`alignkit concepts classify|retrieve|generate`):
 * label questions with a concept-labelled benchmark's concepts, retrieve problems of chosen
 * concepts from pools of worked problems, or have a teacher model write new ones. Every output
 * drops duplicates of the benchmark's own questions (and of --exclude files).
 */
import { finishRun, type RunOutputs } from '../../report/finish-run.ts';
import type { RunDir } from '../../run/run-dir.ts';
import { RunSession, type RunTarget } from '../../run/run-session.ts';
import type { Plot, Summary, Table } from '../../run/summary.ts';
import { writeFileAtomic } from '../../util/atomic-write.ts';
import { inputError } from '../../errors.ts';
import type { LanguageModel } from '../../lm/language-model.ts';
import type { ConceptMathItem } from '../conceptmath/data.ts';
import { percent, round } from '../summary-parts.ts';
import { readRecords, stringField } from '../records-file.ts';
import { loadConceptBenchmark, type BenchmarkSelection } from './concept-benchmark.ts';
import { ConceptClassifier, heldOutScore, type HeldOutScore } from './concept-classifier.ts';
import { conceptUnits, unitName, type ConceptUnits } from './concept-units.ts';
import { defaultTeacherGeneration, generateProblems } from './generate.ts';
import { DuplicateIndex } from './near-duplicates.ts';
import { loadPool } from './problem-pool.ts';
import { classifyPool, selectForConcepts } from './retrieve.ts';
import { cleanPool, trainingRecord, type RemovedDuplicate } from './training-records.ts';

/** What every concepts run takes: the benchmark whose concepts are used, and where the run goes. */
export interface ConceptsRunOptions extends RunTarget {
  benchmark: BenchmarkSelection;
  /** leaf concepts with fewer questions are pooled under their parent */
  minItems: number;
  seed: number;
  /** more questions (JSONL with "question") that outputs must not duplicate */
  exclude?: readonly string[];
}

export interface ClassifyOptions extends ConceptsRunOptions {
  /** JSONL files with a "question" field */
  inputs: readonly string[];
  /** a saved classifier instead of training one */
  classifier?: string;
  saveClassifier?: string;
  /** share of the labelled questions held out to score the classifier (0 = skip) */
  holdout: number;
}

export interface RetrieveOptions extends ConceptsRunOptions {
  pools: readonly string[];
  /** concept ids ("<grade>:<cate0>/<cate1>/<cate2>", or the path alone when unambiguous), or "all" */
  concepts: readonly string[];
  perConcept: number;
  minProbability: number;
}

export interface GenerateOptions extends ConceptsRunOptions {
  teacher: string;
  apiKeyEnv?: string;
  concepts: readonly string[];
  /** teacher calls per concept */
  perConcept: number;
  shots: number;
  /** worked problems whose format the teacher is shown */
  pools?: readonly string[];
  teacherTemperature: number;
  teacherMaxNewTokens: number;
  concurrency: number;
}

interface Context {
  benchmark: ConceptMathItem[];
  units: ConceptUnits;
  runDir: RunDir;
  seed: number;
  exclude: readonly string[];
}

const jsonl = (rows: readonly unknown[]) => rows.map((r) => JSON.stringify(r) + '\n').join('');

/** The classifier of the benchmark's concepts (trained on all its labelled questions). */
const trainClassifier = (c: Context) =>
  ConceptClassifier.train(c.benchmark.map((i) => ({ text: i.question, label: c.units.unitOf(i).id })));

/** Concept IDs from --concept: full ids, paths that name one unit, or "all". */
function resolveConcepts(c: Context, asked: readonly string[]): string[] {
  if (!asked.length)
    throw inputError('name the concepts with --concept ID (repeatable) or --concept all', { field: '--concept' });
  if (asked.includes('all')) return c.units.units.map((u) => u.id);
  return asked.map((a) => {
    if (c.units.byId.has(a)) return a;
    const byPath = c.units.units.filter((u) => u.concept === a);
    if (byPath.length === 1) return byPath[0].id;
    const known = c.units.units
      .slice(0, 15)
      .map((u) => u.id)
      .join('; ');
    throw inputError(
      `${byPath.length ? 'ambiguous' : 'unknown'} concept "${a}" (concepts of this benchmark include: ${known}${c.units.units.length > 15 ? '; …' : ''})`,
      { field: '--concept' },
    );
  });
}

/** Questions outputs must not duplicate: the benchmark's own and --exclude files. */
function exclusionIndex(c: Context): DuplicateIndex {
  const extra = c.exclude.flatMap((f) =>
    readRecords(f).map((r) => ({ key: `${f}:${r.where.line ?? r.where.field}`, text: stringField(r, 'question') })),
  );
  return new DuplicateIndex([...c.benchmark.map((i) => ({ key: i.key, text: i.question })), ...extra]);
}

const classifierTable = (s: HeldOutScore): Table => ({
  title: 'Concept classifier on held-out labelled questions',
  columns: ['accuracy %', 'majority baseline %', 'majority concept', 'concepts', 'train', 'held out'],
  rows: [[percent(s.accuracy, 1), percent(s.majorityAccuracy, 1), s.majorityLabel, s.labels, s.trainSize, s.testSize]],
});

const removedTable = (removed: readonly RemovedDuplicate[]): Table => ({
  title: `Duplicates of benchmark/excluded questions removed (${removed.length})`,
  columns: ['origin', 'kind', 'duplicate of', 'Jaccard', 'question'],
  rows: removed.map((r) => [r.origin, r.match.kind, r.match.key, round(r.match.jaccard, 3), r.question.slice(0, 120)]),
  note: removed.length ? undefined : 'none',
});

const countPlot = (title: string, counts: [string, number][]): Plot => ({
  type: 'bar',
  title,
  xLabel: 'concept',
  yLabel: 'problems',
  series: [{ name: 'problems', points: counts }],
});

async function classify(c: Context, o: ClassifyOptions): Promise<Summary> {
  const { holdout } = o;
  const classifier = o.classifier ? ConceptClassifier.load(o.classifier) : trainClassifier(c);
  if (o.saveClassifier) classifier.save(o.saveClassifier);
  const check =
    !o.classifier && holdout > 0
      ? heldOutScore(
          c.benchmark.map((i) => ({ text: i.question, label: c.units.unitOf(i).id })),
          { testFraction: holdout, seed: c.seed },
        )
      : undefined;
  const inputs = o.inputs.flatMap((f) =>
    readRecords(f).map((r) => ({ id: `${f}:${r.where.line ?? r.where.field}`, question: stringField(r, 'question') })),
  );
  const rows = inputs.map((q) => ({ ...q, ...classifier.predict(q.question, 3) }));
  writeFileAtomic(
    c.runDir.path('results.jsonl'),
    jsonl(
      rows.map((r) => ({
        id: r.id,
        question: r.question,
        concept: r.label,
        probability: round(r.probability, 4),
        top: r.top.map((t) => ({ concept: t.label, probability: round(t.probability, 4) })),
      })),
    ),
  );
  const counts = new Map<string, number>();
  for (const r of rows) counts.set(r.label, (counts.get(r.label) ?? 0) + 1);
  const byCount = [...counts.entries()].sort((a, b) => b[1] - a[1]);
  return {
    kind: 'concepts classify',
    title: `Concept classification (${classifier.labels.length} concepts)`,
    metrics: {
      inputs: rows.length,
      concepts: classifier.labels.length,
      ...(check
        ? { heldout_accuracy: percent(check.accuracy, 1), majority_baseline: percent(check.majorityAccuracy, 1) }
        : {}),
    },
    tables: [
      ...(check ? [classifierTable(check)] : []),
      {
        title: 'Inputs per predicted concept',
        columns: ['concept', 'inputs'],
        rows: byCount.map(([id, n]) => [unitName(c.units.byId.get(id) ?? { grade: '', concept: id }), n]),
      },
    ],
    plots: rows.length ? [countPlot('Inputs per predicted concept', byCount)] : [],
  };
}

async function retrieve(c: Context, o: RetrieveOptions): Promise<Summary> {
  const concepts = resolveConcepts(c, o.concepts);
  const pools = o.pools;
  if (!pools.length) throw inputError('concepts retrieve needs --pool FILE (worked problems)', { field: '--pool' });
  const pool = pools.flatMap((p) => loadPool(p));
  const classifier = trainClassifier(c);
  const { clean, removed } = cleanPool(classifyPool(classifier, pool), exclusionIndex(c));
  const retrieval = selectForConcepts(clean, classifier.labels, concepts, {
    perConcept: o.perConcept,
    minProbability: o.minProbability,
  });
  const found = concepts.flatMap((id) => retrieval.byConcept.get(id) ?? []);
  writeFileAtomic(
    c.runDir.path('results.jsonl'),
    jsonl(
      found.map((p) => ({
        concept: p.concept,
        id: p.id,
        question: p.question,
        solution: p.solution,
        answer: p.answer,
        probability: round(p.probability, 4),
      })),
    ),
  );
  writeFileAtomic(
    c.runDir.path('train.jsonl'),
    jsonl(found.map((p) => trainingRecord(p, 'retrieved', p.id, p.concept))),
  );
  const perConcept: [string, number][] = concepts.map((id) => [id, retrieval.byConcept.get(id)?.length ?? 0]);
  return {
    kind: 'concepts retrieve',
    title: `Retrieval for ${concepts.length} concept${concepts.length === 1 ? '' : 's'} from ${pool.length} pool problems`,
    metrics: {
      retrieved: found.length,
      concepts: concepts.length,
      concepts_without_problems: retrieval.empty.length,
      duplicates_removed: removed.length,
    },
    tables: [
      {
        title: 'Retrieved per concept',
        columns: ['concept', 'problems', 'mean probability'],
        rows: concepts.map((id) => {
          const got = retrieval.byConcept.get(id) ?? [];
          return [
            unitName(c.units.byId.get(id)!),
            got.length,
            got.length ? round(got.reduce((a, p) => a + p.probability, 0) / got.length, 3) : null,
          ];
        }),
        note: retrieval.empty.length
          ? `No pool problem is classified as: ${retrieval.empty.join('; ')} (skipped).`
          : undefined,
      },
      removedTable(removed),
    ],
    plots: [countPlot('Retrieved problems per concept', perConcept)],
  };
}

async function generate(
  c: Context,
  o: GenerateOptions,
  teacher: LanguageModel,
  progress: RunSession['progress'],
): Promise<Summary> {
  const concepts = resolveConcepts(c, o.concepts);
  const teacherRef = o.teacher;
  const concurrency = o.concurrency;
  const pool = (o.pools ?? []).flatMap((p) => loadPool(p));
  const assigned = pool.length ? classifyPool(trainClassifier(c), pool) : [];
  const demoOf = (id: string) => assigned.find((p) => p.concept === id) ?? pool[0];
  const outcome = await generateProblems({
    teacher,
    tasks: concepts.map((id) => {
      const demo = demoOf(id);
      return {
        unit: c.units.byId.get(id)!,
        examples: c.benchmark
          .filter((i) => c.units.unitOf(i).id === id)
          .map((i) => ({ question: i.question, answer: i.answer })),
        demo: demo && { question: demo.question, solution: demo.solution, answer: demo.answer },
      };
    }),
    perConcept: o.perConcept,
    shots: o.shots,
    generation: {
      ...defaultTeacherGeneration,
      temperature: o.teacherTemperature,
      maxNewTokens: o.teacherMaxNewTokens,
      seed: c.seed,
    },
    concurrency,
    seed: c.seed,
    recordsPath: c.runDir.path('generated.jsonl'),
    onProgress: (p) => progress({ stage: 'generate', done: p.done, total: p.total, note: `dropped ${p.dropped}` }),
  });
  const index = exclusionIndex(c);
  const kept = outcome.problems.filter((p) => !index.match(p.question));
  const removed: RemovedDuplicate[] = outcome.problems
    .filter((p) => !kept.includes(p))
    .map((p) => ({ source: 'generated', origin: p.key, question: p.question, match: index.match(p.question)! }));
  writeFileAtomic(c.runDir.path('results.jsonl'), jsonl(kept));
  writeFileAtomic(
    c.runDir.path('train.jsonl'),
    jsonl(kept.map((p) => trainingRecord(p, 'generated', p.key, p.concept))),
  );
  const byConcept = (id: string, ok: boolean) => outcome.records.filter((r) => r.concept === id && r.ok === ok).length;
  return {
    kind: 'concepts generate',
    title: `Generated problems from ${teacherRef}`,
    metrics: {
      kept: kept.length,
      calls: outcome.records.length,
      dropped: outcome.records.length - kept.length,
      duplicates_removed: removed.length,
      teacher: teacherRef,
    },
    tables: [
      {
        title: 'Per concept',
        columns: ['concept', 'calls', 'well-formed', 'kept'],
        rows: concepts.map((id) => [
          unitName(c.units.byId.get(id)!),
          byConcept(id, true) + byConcept(id, false),
          byConcept(id, true),
          kept.filter((p) => p.concept === id).length,
        ]),
        note: 'well-formed but not kept: a repeat of an earlier problem or a duplicate of a benchmark question',
      },
      {
        title: 'Dropped teacher output',
        columns: ['reason', 'count'],
        rows: Object.entries(outcome.dropped),
        note: Object.keys(outcome.dropped).length ? undefined : 'none',
      },
      removedTable(removed),
    ],
    plots: [
      countPlot(
        'Kept problems per concept',
        concepts.map((id) => [id, kept.filter((p) => p.concept === id).length]),
      ),
    ],
  };
}

/** Opens the run: benchmark read and checked, folder taken; `body` does the work once the run has started. */
async function conceptsRun(
  command: string,
  o: ConceptsRunOptions & { apiKeyEnv?: string; concurrency?: number },
  body: (c: Context, session: RunSession) => Promise<Summary>,
): Promise<RunOutputs> {
  const benchmark = loadConceptBenchmark(o.benchmark);
  const session = RunSession.open({ ...o, command, models: { apiKeyEnv: o.apiKeyEnv, concurrency: o.concurrency } });
  try {
    const context: Context = {
      benchmark,
      units: conceptUnits(benchmark, benchmark, o.minItems),
      runDir: session.folder,
      seed: o.seed,
      exclude: o.exclude ?? [],
    };
    return finishRun(session.folder, await body(context, session));
  } finally {
    await session.close();
  }
}

const started = (session: RunSession, items: number) => session.start({ items });

/** `alignkit concepts classify`: labels questions with the benchmark's concepts. */
export function classifyConcepts(o: ClassifyOptions): Promise<RunOutputs> {
  if (!(o.holdout >= 0 && o.holdout < 1))
    throw inputError(`--holdout expects a number in [0, 1), got ${o.holdout}`, { field: '--holdout' });
  return conceptsRun('concepts classify', o, async (c, session) => {
    started(session, c.benchmark.length);
    return classify(c, o);
  });
}

/** `alignkit concepts retrieve`: problems of chosen concepts from pools of worked problems (also OUT/train.jsonl). */
export function retrieveConceptProblems(o: RetrieveOptions): Promise<RunOutputs> {
  return conceptsRun('concepts retrieve', o, async (c, session) => {
    started(session, c.benchmark.length);
    return retrieve(c, o);
  });
}

/** `alignkit concepts generate`: new problems for chosen concepts from a teacher (also OUT/train.jsonl). */
export function generateConceptProblems(o: GenerateOptions): Promise<RunOutputs> {
  return conceptsRun('concepts generate', o, async (c, session) => {
    const teacher = await session.models.load(o.teacher);
    started(session, c.benchmark.length);
    return generate(c, o, teacher, session.progress);
  });
}
